const tf = require('@tensorflow/tfjs'); const wasm = require('@tensorflow/tfjs-backend-wasm');
(async () => {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  try { wasm.setThreadsCount && wasm.setThreadsCount(2); } catch (e) { console.log('setThreadsCount', e.message); }
  const ok = await tf.setBackend('wasm'); await tf.ready();
  console.log('ok', ok, tf.getBackend(), wasm.getThreadsCount && wasm.getThreadsCount());
  const a = tf.randomNormal([1024, 1024]); const b = tf.randomNormal([1024, 1024]);
  for (let i = 0; i < 2; i++) await tf.matMul(a, b).data();
  const t0 = performance.now(); for (let i = 0; i < 5; i++) { const c = tf.matMul(a, b); await c.data(); c.dispose(); }
  console.log('GFLOP/s', (2 * 1024 ** 3 * 5) / ((performance.now() - t0) / 1000) / 1e9);
  process.exit(0);
})().catch(e => { console.log('ERR', e.message); process.exit(1); });
