const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
(async () => {
  await tf.setBackend('wasm'); await tf.ready();
  const cases = [[128,784,512,false,false],[128,512,784,false,true],[784,128,512,true,false],[1024,1024,1024,false,false]];
  for (const [m,k,n,ta,tb] of cases) {
    const a = tf.randomNormal(ta ? [k,m] : [m,k]); const b = tf.randomNormal(tb ? [n,k] : [k,n]);
    for (let i=0;i<2;i++) (await tf.matMul(a,b,ta,tb).data());
    const N=5; const t0=performance.now(); for (let i=0;i<N;i++){ const c=tf.matMul(a,b,ta,tb); await c.data(); c.dispose(); }
    const ms=(performance.now()-t0)/N; console.log(m,k,n,ta,tb, ms.toFixed(2)+'ms', (2*m*k*n/ms/1e6).toFixed(1)+' GFLOP/s');
  }
})();
