const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
(async () => {
  await tf.setBackend(process.argv[2] || 'wasm'); await tf.ready();
  const sizes = [784, 512, 512, 784];
  const W = [], b = [];
  for (let i = 0; i < 3; i++) { W.push(tf.variable(tf.randomNormal([sizes[i], sizes[i+1]], 0, 0.05))); b.push(tf.variable(tf.zeros([sizes[i+1]]))); }
  const opt = tf.train.adam(1e-3); const x = tf.randomUniform([128, 784]);
  const loss = () => { let h = x; for (let i = 0; i < 3; i++) { h = tf.add(tf.matMul(h, W[i]), b[i]); if (i < 2) h = tf.relu(h); } return tf.losses.sigmoidCrossEntropy(x, h); };
  for (let i = 0; i < 3; i++) { const l = opt.minimize(loss, true); await l.data(); l.dispose(); }
  const prof = await tf.profile(async () => { const l = opt.minimize(loss, true); await l.data(); l.dispose(); });
  const agg = {};
  for (const k of prof.kernels) { const t = await k.kernelTimeMs; agg[k.name] = agg[k.name] || { n: 0, ms: 0 }; agg[k.name].n++; agg[k.name].ms += typeof t === 'number' ? t : (t.error ? 0 : t); }
  const rows = Object.entries(agg).sort((a, b) => b[1].ms - a[1].ms);
  let tot = 0; for (const [, v] of rows) tot += v.ms;
  console.log('total kernel ms', tot.toFixed(1));
  for (const [k, v] of rows.slice(0, 20)) console.log(k.padEnd(24), String(v.n).padStart(4), v.ms.toFixed(1));
  const t0 = Date.now(); const N = 10; for (let i = 0; i < N; i++) { const l = opt.minimize(loss, true); await l.data(); l.dispose(); }
  console.log('ms/step', (Date.now() - t0) / N, 'samples/s', 128 * N / ((Date.now() - t0) / 1000));
})();
