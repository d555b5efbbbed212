// The globals a notebook cell sees, for the editor only (the engine's own code has no
// such globals: tsconfig.json leaves this file out). Declared in api.d.ts.

/** The Latent Lab API. */
declare const lab: LatentLab.Lab;
/** TensorFlow.js (`@tensorflow/tfjs`), on the engine's selected backend. */
declare const tf: any;
