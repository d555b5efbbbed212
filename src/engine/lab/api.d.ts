// The declaration of the cell API: every dataset, option, config, result and view of
// `lab`, written once. The engine's implementation (lab.ts, models/*/index.ts) is
// compiled against it, so a missing or mistyped field is a type error; the editor loads
// it (with cell-globals.d.ts) for completion and hover docs; the option checks
// (options-spec.ts) and the API reference (docs/lab-api.md) are generated from it.
// Self-contained: no imports.

declare namespace LatentLab {
  /** What an evaluation number is. Never rank a bound against an exact value without saying so. */
  type MetricKind = 'loss' | 'exact' | 'bound' | 'estimate' | 'sample' | 'info';

  /** A dataset with a fixed train / validation / test split (80 / 10 / 10). */
  /** Rows of a dataset: flat row-major x [n, dim], labels y where the data has classes. */
  interface Split {
    x: Float32Array;
    n: number;
    y?: Uint8Array;
    /** where it came from ('mnist', 'fashion-mnist', 'moons', ...): lab.evaluate picks its sample metrics by it */
    source?: string;
  }

  interface Dataset {
    /** e.g. 'mnist', 'fashion-mnist', '8gaussians' */
    readonly name: string;
    /** 'image' (28×28 grayscale), 'points' (2-D toy data) or 'sequence' (symbols: mu-law audio, text) */
    readonly kind: 'image' | 'points' | 'sequence';
    /** shape of one example, e.g. [28, 28] or [2] */
    readonly shape: number[];
    /** values per example (784 for MNIST, 2 for toy data) */
    readonly dim: number;
    /** true when every value is 0 or 1 */
    readonly binary: boolean;
    /** training split: `x` is row-major [n, dim]; `y` the class of each row, where the data has labels */
    readonly train: Split;
    /** validation split (evaluation during training, best checkpoint) */
    readonly val: Split;
    /** test split (final numbers only) */
    readonly test: Split;
    /** labelled data (MNIST, Fashion-MNIST): the number of classes, and their names */
    readonly classes?: number;
    readonly classNames?: string[];
    /** hash of the name, settings and split sizes: compare runs only on equal fingerprints */
    readonly fingerprint: string;
    /** the settings that produced the data (recorded with every run) */
    readonly settings: Record<string, unknown>;
    /** mode centres of toy mixtures (8gaussians, 25gaussians) */
    readonly modes?: number[][];
    /** standard deviation of each mode of a toy mixture */
    readonly modeStd?: number;
    /** sequences: the number of symbols (256 for mu-law audio, 96 for text) */
    readonly levels?: number;
    /** text: the character of each symbol index */
    readonly vocab?: string;
    /** audio: samples per second */
    readonly sampleRate?: number;
  }

  interface WaveformOptions {
    /** windows before the split (default 4000) */
    n?: number;
    /** samples per window (default 256) */
    length?: number;
    /** samples per second (default 8000) */
    sampleRate?: number;
    /** seed of the draw (default 0) */
    seed?: number;
  }

  interface TextOptions {
    /** a text of your own instead of the embedded corpus */
    text?: string;
    /** a UTF-8 file to read instead of the embedded corpus */
    file?: string;
    /** characters per row (default 128) */
    length?: number;
    /** at most this many rows (default all) */
    limit?: number;
  }

  interface ImageDataOptions {
    /**
     * How pixels become data:
     * - `true` / `'stochastic'` (default): each pixel drawn once as Bernoulli(intensity) with a
     *   fixed, recorded seed — the standard for likelihood benchmarks;
     * - `'threshold'`: pixel > 0.5 (cleaner digits, far lower NLL: never compare across the two);
     * - `false`: grayscale in [0, 1].
     */
    binarize?: boolean | 'stochastic' | 'threshold';
    /** use only this many images (after a fixed shuffle), split 80/10/10 */
    limit?: number;
    /** seed of the stochastic binarization (default 0) */
    binarizeSeed?: number;
  }

  type Toy2dName = 'moons' | '8gaussians' | '25gaussians' | 'rings' | 'spirals' | 'checkerboard';

  interface Toy2dOptions {
    /** total points before the split (default 10000) */
    n?: number;
    /** noise scale (default depends on the distribution, e.g. 0.05 for the Gaussian mixtures) */
    noise?: number;
    /** seed of the draw (default 0) */
    seed?: number;
  }

  interface WavOptions {
    /** samples per window (default 256) */
    length?: number;
    /** samples between window starts (default: length, no overlap) */
    hop?: number;
  }

  interface BarsOptions {
    /** side of the square image, 2..8 (default 3: 14 patterns; 4 gives 30) */
    size?: number;
    /** copies of each pattern in the train split (default 64) */
    repeats?: number;
    /** copies of each pattern in the validation and test splits (default 8) */
    evalRepeats?: number;
    /** seed of the shuffle of each split (default 0) */
    seed?: number;
  }

  /** What lab.data.barsAndStripes records as its settings. */
  type BarsSettings = {
    size: number;
    repeats: number;
    evalRepeats: number;
    seed: number;
    /** distinct patterns, each equally likely */
    patterns: number;
    /** entropy of the data distribution in nats: the lowest NLL a model can reach */
    entropy: number;
    /** the same in bits per pixel */
    entropyBitsPerDim: number;
  };

  /** Bars and stripes: a dataset whose settings carry the entropy of its distribution. */
  interface BarsDataset extends Dataset {
    readonly settings: BarsSettings;
  }

  interface DataApi {
    /** The 10,000 MNIST digits of the `mnist` package: 8000 train / 1000 validation / 1000 test. */
    mnist(opts?: ImageDataOptions): Dataset;
    /** Fashion-MNIST (70,000 images): 56000 / 7000 / 7000. */
    fashionMnist(opts?: ImageDataOptions): Dataset;
    /** A 2-D toy distribution with a fixed seeded draw. */
    toy2d(name: Toy2dName, opts?: Toy2dOptions): Dataset;
    /** names accepted by `toy2d` */
    readonly toy2dNames: readonly Toy2dName[];
    /**
     * Synthetic audio: windows of 1 to 3 decaying sinusoids (110–880 Hz) plus noise, as
     * 8-bit mu-law codes (256 symbols), split 80/10/10.
     */
    waveforms(opts?: WaveformOptions): Dataset;
    /**
     * WAV files (a file, a folder of .wav files, or a list) cut into windows of `length`
     * samples, mixed to mono and mu-law encoded. PCM 8/16/24/32-bit and float WAVs.
     */
    wav(source: string | string[], opts?: WavOptions): Dataset;
    /**
     * Text as rows of `length` characters over newline + printable ASCII (96 symbols).
     * The embedded corpus is TypeScript's standard library declarations (code and doc comments).
     */
    text(opts?: TextOptions): Dataset;
    /** Characters of a 5×7 pixel alphabet as 0/1 patterns ((7+2)·scale × (5+2)·scale units each): memories for a Hopfield network. */
    glyphs(chars: string, opts?: { scale?: number }): { x: Float32Array; n: number; shape: [number, number]; chars: string };
    /**
     * Bars and stripes: every size×size binary image whose rows are all equal or whose columns are (14 patterns
     * for size 3), each split uniform over them; `settings.entropy` is ln(patterns), the best possible test NLL.
     */
    barsAndStripes(opts?: BarsOptions): BarsDataset;
    /**
     * Your own data, from a path relative to the workspace folder (or absolute). The format comes
     * from the content: IDX (MNIST's files, gzipped or not; `train-images-…` pairs with `train-labels-…`),
     * NPY, NPZ (arrays x / images / arr_0 and y / labels / arr_1), CSV, JSON (arrays of numbers, or an
     * object whose x / data holds one; other JSON is refused unless `kind: 'sequence'`), plain text (character rows),
     * WAV (mu-law windows), or a folder of PNG / JPEG images whose subfolders are classes.
     * Split 80/10/10 with a seeded shuffle; `fingerprint` hashes the file bytes and these options.
     * A malformed, truncated or mistyped file throws an error naming the file and the problem.
     */
    load(path: string, opts?: LoadOptions): Dataset;
  }

  interface LoadOptions {
    /** IDX / NPY data: a labels file (IDX or NPY, one whole number per row); false: do not pair by name */
    labels?: string | false;
    /** NPZ / JSON object: the data array's name (NPZ default x, images, data, X, arr_0; JSON x, data) */
    x?: string;
    /** NPZ / JSON object: the labels array's name (NPZ default y, labels, targets, Y, arr_1; JSON y, labels); null: no labels */
    y?: string | null;
    /** what the rows are (default: image for [n, h, w] / [n, h, w, c] arrays and image folders, points otherwise) */
    kind?: 'image' | 'points' | 'sequence';
    /** images: divide values by this (default 1 for values in [0, 1], 255 for [0, 255]) */
    scale?: number;
    /** images: 'gray' (default for image files) or 'rgb' ([h, w, 3]; default for RGB arrays) */
    color?: 'gray' | 'rgb';
    /** images: 'threshold' (> 0.5) or 'stochastic' (Bernoulli(value), seed 0); default: grayscale as is */
    binarize?: false | 'threshold' | 'stochastic';
    /** kind 'sequence' from arrays: the number of symbols (default max + 1) */
    levels?: number;
    /** use this many rows (a seeded random subset) before the split */
    limit?: number;
    /** seed of the shuffle before the 80/10/10 split (default 0) */
    splitSeed?: number;
    /** CSV: true when the first row names the columns (default: detected) */
    header?: boolean;
    /** CSV: the label column, by header name or 0-based index (its values become classes) */
    label?: string | number;
    /** text and WAV: symbols per row (default 128 for text, 256 for WAV) */
    length?: number;
    /** WAV: samples between window starts (default: length) */
    hop?: number;
    /** the dataset's name (default: the file or folder name) */
    name?: string;
  }

  /** A model family instance; built on its data by `lab.train`. */
  interface Model {
    /** 'vae', 'gan', ... */
    readonly family: string;
    /** the model's settings (recorded with each run) */
    readonly config: Record<string, unknown>;
    /** true once trained (built) on a dataset; training it again continues from its weights */
    readonly built: boolean;
    /** metric key → kind of everything it reports */
    metricKinds(): Record<string, MetricKind>;
    /** free its tensors */
    dispose(): void;
    /**
     * `n` examples [n, D] (a tf.Tensor2D; images in [0, 1]), decoded from `noise` when given, else drawn with `seed`.
     * Models that read values back while they sample (autoregressive models, MAF, the classical models) return a
     * Promise of it: `await model.sample(n)` works for every model.
     */
    sample(n: number, noise?: any, seed?: number): any;
    /** the latent noise of `n` rows drawn with `seed` (a run's fixed noise bank) */
    noise(n: number, seed: number): any;
    /** sampling temperature (1 = the model): flows scale the prior draws by it, wavenet and charlm divide their logits by it */
    temperature?: number;
  }

  /** A model with a likelihood: lab.evaluate gives its test NLL (exact, a bound or an estimate). */
  interface LikelihoodModel extends Model {
    /** −log p(x) per example in nats with its kind, on the family's reporting scale (what lab.evaluate averages) */
    testNll(x: any, seed: number, labels?: any, opts?: EstimatorOptions): Promise<{ nll: Float32Array; kind: 'exact' | 'bound' | 'estimate'; stderr?: number; details?: Record<string, number>; convergence?: Convergence }>;
  }

  /** A model without a likelihood (GANs, GMMN, autoencoders): lab.evaluate scores its samples. */
  interface SampleModel extends Model {
    testNll?: undefined;
  }

  interface Ebm extends SampleModel {
    /** E(x) per row for images in [0, 1] (lower is more probable) */
    energy(x: any): any;
  }

  interface Gsn extends SampleModel {
    /** the chain's frames (the mean of p(x | h_t) every `every` steps, the first the random start); `reset`: h set to 0 before every step */
    chain(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array; reset?: boolean }): Promise<Float32Array[]>;
  }

  interface VaeConfig {
    /** latent dimensions (default 16) */
    latentDim?: number;
    /** encoder hidden sizes; the decoder mirrors them (default [512, 256]) */
    hidden?: number[];
    /** decoder p(x|z): 'bernoulli' (binary data, the default there) or 'gaussian' (learned per-dimension scale) */
    likelihood?: 'bernoulli' | 'gaussian';
    /** weight of the KL term in the objective (β-VAE, default 1). The reported ELBO always uses β = 1. */
    beta?: number;
    /** KL warm-up: ramp β from 0 over this many steps (default 0 = off) */
    klWarmup?: number;
    /** 'mlp' (default) or 'conv': stride-2 convolutions down, transposed convolutions up; `hidden` are then channels (default [32, 64]) */
    net?: 'mlp' | 'conv';
    /** training objective: the ELBO (default) or the IWAE bound with `k` samples */
    objective?: 'elbo' | 'iwae';
    /** posterior samples per example in training (default 1) */
    k?: number;
    /** importance samples of lab.evaluate's IWAE bound (default 500) */
    evalK?: number;
    /** condition encoder and decoder on the class (a CVAE; needs labelled data) */
    conditional?: boolean;
  }

  interface HvaeConfig {
    /** sizes of the stochastic layers z_1 … z_L, z_1 nearest the data (default [32, 16]; at least one layer) */
    latents?: number[];
    /** hidden sizes of the deterministic path from x up to z_1's features; the decoder p(x|z_1) mirrors them (default [512, 256]) */
    hidden?: number[];
    /** width of the nets between stochastic layers: each bottom-up step to a higher layer and each top-down prior p(z_l|z_{l+1}) (default 256) */
    width?: number;
    /** activation of every hidden layer (default 'relu'; 'linear' with likelihood 'gaussian' is a linear-Gaussian hierarchy) */
    activation?: 'relu' | 'tanh' | 'linear';
    /** decoder p(x|z_1): 'bernoulli' (binary data, the default there) or 'gaussian' (learned per-dimension scale) */
    likelihood?: 'bernoulli' | 'gaussian';
    /** KL warm-up: the KL terms' weight rises linearly from 0 to 1 over this many steps (default 0 = off) */
    warmup?: number;
    /** importance samples of lab.evaluate's IWAE bound (default 500, as the VAE's; lab.evaluate's `k` overrides it) */
    evalK?: number;
  }

  interface AdversarialConfig {
    /** latent dimensions (default 2 on 2-D points, 64 on images) */
    latentDim?: number;
    /** 'mlp' (default) or 'conv' (images whose sides divide by 2^hidden.length) */
    net?: 'mlp' | 'conv';
    /** mlp: hidden sizes of G and D (default [64, 64] on 2-D points, [256, 256] on images); conv: D's channels, G mirrors them (default [32, 64]) */
    hidden?: number[];
    /** discriminator (critic) updates per generator update (default 1; wgan / wganGp 5) */
    dSteps?: number;
    /** dropout rate on D's hidden units while training (default 0) */
    dropout?: number;
    /** W / σ_max(W) for every D weight, one power-iteration step per update (default false) */
    spectralNorm?: boolean;
  }
  interface GanConfig extends AdversarialConfig {
    /** generator loss: 'nonsaturating' (max log D(G(z)), default) or 'minimax' (min log(1 − D(G(z)))) */
    loss?: 'nonsaturating' | 'minimax';
  }
  type DcganConfig = Omit<GanConfig, 'net'> & { net?: 'conv' };
  interface WganConfig extends AdversarialConfig {
    /** clip critic parameters into [−clip, clip] after each update (default 0.01) */
    clip?: number;
  }
  interface WganGpConfig extends AdversarialConfig {
    /** weight λ of λ(‖∇D(x̂)‖₂ − 1)² (default 10) */
    lambda?: number;
  }
  interface LsganConfig extends AdversarialConfig {
    /** D's target for generated (default 0) */
    a?: number;
    /** D's target for real (default 1) */
    b?: number;
    /** G's target (default 1) */
    c?: number;
  }
  /** What every adversarial family exposes beyond Model (the GAN Lab views use it). */
  interface AdversarialModel extends SampleModel {
    readonly adversarial: true;
    /** 'probability' = D(x) ∈ (0, 1) (gan, dcgan, cgan); 'score' (wgan, wgan-gp, lsgan) */
    readonly criticKind: 'probability' | 'score';
    /** D's output per row [n, 1] (one-hot labels for a cgan) */
    critic(x: any, labels?: any): any;
    /** minus ∇ₓ of the generator's loss at points x: where G's update pushes a sample */
    generatorGradient(x: any, labels?: any): any;
    /** G's output for codes z [n, latentDim] (a cgan: with a class index, one per row, or one-hot) */
    decode(z: any, labels?: number | ArrayLike<number> | any): any;
    readonly latentDim: number;
  }
  interface Cgan extends AdversarialModel {
    readonly conditional: true;
    readonly classes: number;
    /** n samples of class c from codes drawn with seed */
    sampleClass(c: number, n: number, seed?: number): any;
  }
  interface WganGp extends AdversarialModel {
    /** λ·mean(‖∇D(x̂)‖₂ − 1)² at x̂ = x + ε(fake − x), ε ~ U[0,1] from seed; differentiable in D's weights */
    gradientPenalty(real: any, fake: any, seed: number, labels?: any): { penalty: any; gradNorm: any };
  }

  type GmmCovariance = 'full' | 'diag' | 'spherical' | 'tied';
  interface GmmConfig {
    /** mixture components K (default 3) */
    components?: number;
    /** covariance type (default 'full') */
    covariance?: GmmCovariance;
    /** added to every variance in the M-step (default 1e-6 × the data's mean variance) */
    reg?: number;
    /** seed of the k-means++ initialisation (default: the run's seed; 0 for fit() without a run) */
    seed?: number;
  }
  interface Gmm extends LikelihoodModel {
    readonly components: number;
    readonly dim: number;
    /** whether the parameters exist (after a training step, fit or a checkpoint) */
    readonly fitted: boolean;
    /** the regularisation in use */
    readonly reg: number;
    /** EM on n rows of x (builds the model as 'points' if needed); logLik: mean nats per example after the init and after each iteration */
    fit(x: Float32Array, n: number, opts?: { iters?: number; tol?: number; restarts?: number }): { logLik: number[]; iters: number; converged: boolean };
    /** log p(x) per row, nats */
    logProb(x: Float32Array): Float64Array;
    /** p(component | x), [n·K] row-major */
    responsibilities(x: Float32Array): Float64Array;
    /** −2 log L + p log N on these rows */
    bic(x: Float32Array): number;
    /** free parameters p */
    parameterCount(): number;
    weights(): Float64Array;
    /** [K·D] */
    means(): Float64Array;
    /** component k's covariance as a full D×D matrix */
    covariance(k: number): Float64Array;
  }
  interface GmmSelection {
    k: number;
    ks: number[];
    bic: number[];
    /** summed training log-likelihood per K */
    logLik: number[];
    params: number[];
    n: number;
    covariance: GmmCovariance;
    /** fitted with the chosen K */
    model: Gmm;
  }
  interface NaiveBayes extends LikelihoodModel {
    readonly classes: number;
    /** training rows counted */
    readonly rows: number;
    /** log p(y|x) per row, [n, C] (each row's exp sums to 1); a tensor's rows are read back: await it */
    posterior(x: Float32Array): any;
    posterior(x: any): Promise<any>;
    /** the most probable class per row; a tensor's rows are read back: await it */
    classify(x: Float32Array): Int32Array;
    classify(x: any): Promise<Int32Array>;
    /** fraction of split.y predicted right */
    accuracy(split: { x: Float32Array; n: number; y?: Uint8Array }): number;
    classPrior(): Float64Array;
    /** p(x_i=1|y=c), [C·D] */
    classMeans(): Float32Array;
    counts(): { classes: Float64Array; on: Float64Array };
    /** n images of class c */
    sampleClass(c: number, n?: number, seed?: number): any;
  }
  interface Kde extends LikelihoodModel {
    readonly points: number;
    /** null until 'validation' has chosen */
    readonly bandwidth: number | null;
    /** the last search: each grid bandwidth's mean validation log-likelihood */
    readonly selection: { bandwidths: number[]; logLik: number[] } | null;
    /** store n rows directly; with `val`, choose the bandwidth on it (await it) */
    fit(x: Float32Array, n: number, val?: { x: Float32Array; n: number }): Promise<Kde>;
    grid(): number[];
    selectBandwidth(x: Float32Array, n?: number): Promise<number>;
    logProb(x: Float32Array, bandwidth?: number): Promise<Float64Array>;
  }
  interface Ngram extends LikelihoodModel {
    readonly order: number;
    readonly levels: number;
    readonly rows: number;
    readonly contexts: number;
    /** p(next symbol | context) over the whole vocabulary */
    distribution(context?: string | ArrayLike<number>): Float64Array;
    /** exp(mean nats per symbol) */
    perplexity(x: Float32Array): number;
    complete(prompt: string, opts?: { n?: number; length?: number; seed?: number }): string[];
  }
  interface Pca extends LikelihoodModel {
    readonly latentDim: number;
    readonly rows: number;
    readonly dequantized: boolean;
    /** accumulate n rows directly (builds as 'points': no dequantization) and fit them (await it) */
    fit(x: Float32Array, n: number): Promise<Pca>;
    logProb(x: Float32Array): Float64Array;
    explainedVariance(): { values: number[]; ratio: number[]; cumulative: number[]; total: number; sigma2: number };
    parameters(): { mean: Float64Array; W: Float64Array; sigma2: number };
    /** principal axes, [q·D] */
    components(): Float32Array;
    /** E[z|x] per row (x read back: await it) */
    encodeMean(x: any): Promise<any>;
    /** mu + W z per row (z read back: await it) */
    decode(z: any): Promise<any>;
    /** the projection onto the principal subspace (x read back: await it) */
    reconstruct(x: any): Promise<any>;
    /** a 'points' dataset of the q principal-component scores of every split (labels kept) */
    reduce(data: Dataset): Dataset;
  }

  interface GmmnConfig {
    /** noise dimensions (default 4 for 2-D points, 32 for images) */
    latentDim?: number;
    /** hidden layer sizes of the generator (default [128, 128] for points, [256, 256] for images) */
    hidden?: number[];
    /** Gaussian kernel bandwidths σ, k = Σ_σ exp(−‖a−b‖²/2σ²); 'auto' (default): the data's median pairwise distance × 1/16, 1/8, 1/4, 1/2, 1, 2 */
    bandwidths?: number[] | 'auto';
    /** MMD² estimator of the loss (default 'unbiased') */
    estimator?: 'unbiased' | 'biased';
  }
  /** GMMN: reports train/mmd2 (loss), val/mmd (sample), and val/mode_dist, val/modes_covered, val/high_quality on toy mixtures; no likelihood */
  interface Gmmn extends SampleModel {
    /** the kernel bandwidths in use (null until 'auto' has seen data; then also recorded in config) */
    readonly bandwidths: number[] | null;
  }
  interface GanLabFrame {
    /** 'start', 'step D' or 'step G' */
    label: string;
    /** the player updated to reach this frame (null for the start) */
    player: 'd' | 'g' | null;
    /** the optimizer groups the update stepped (['d'] or ['g']) */
    groups: string[];
    /** mean critic output on real (validation) and on the shown generated points */
    dReal: number;
    dFake: number;
    /** what the update reported (its loss and diagnostics) */
    metrics: Record<string, number>;
  }

  interface DdpmConfig {
    /** diffusion steps T (default 1000 on images, 100 on 2-D points) */
    timesteps?: number;
    /** noise schedule: 'linear' (β 1e-4 → 0.02 at T = 1000, default) or 'cosine' (Nichol & Dhariwal) */
    schedule?: 'linear' | 'cosine';
    /** reverse-process variance σ_t²: 'beta' (β_t, default) or 'posterior' (β̃_t) */
    variance?: 'beta' | 'posterior';
    /** ε-network: 'mlp' (default on points) or 'unet' (default on images) */
    net?: 'mlp' | 'unet';
    /** MLP hidden sizes (default [128, 128, 128] on points, [512, 512, 512] on images) */
    hidden?: number[];
    /** U-Net channels per resolution (default [16, 32]) */
    channels?: number[];
    /** width of the sinusoidal time embedding (default 32 on points, 64 on images) */
    timeEmbed?: number;
    /** reverse steps `sample` runs (default min(T, 100)); fewer than T runs strided steps with respaced betas */
    sampleSteps?: number;
    /** U-Net: one self-attention layer at quarter resolution (default true) */
    attention?: boolean;
    /** clip x̂_0 to the data range while sampling images (default true) */
    clipDenoised?: boolean;
    /** samples of the bound's estimate per example in lab.evaluate */
    evalSamples?: number;
    /** exponential moving average of the weights for sampling (decay; 0 = off) */
    ema?: number;
    /**
     * terms of the bound's sum over t that testNll evaluates per example (default 100):
     * >= T sums all of them (Ho et al.); fewer takes the first half of them exactly (L_0 and
     * the large small-t terms) and draws one t in each of the other half's equal strata of
     * the later t, weighted by the stratum's size: an unbiased estimate of the sum at a
     * fraction of the cost (on MNIST with T = 1000 the full sum costs 1000 network passes
     * per image)
     */
    nllTimesteps?: number;
  }
  interface ScoreConfig {
    /**
     * the geometric ladder of noise levels σ_1 > … > σ_L (defaults: max 3, min 0.03 on points; max 5, min 0.02 on images in
     * [−1, 1]; 10 levels)
     */
    sigmas?: { max?: number; min?: number; levels?: number };
    /** annealed Langevin: steps at each level (default 100 on points, 10 on images) and ε, the step at σ_L (α_i = ε σ_i²/σ_L²; default 0.1 σ_L² on points, 0.5 σ_L² on images) */
    langevin?: { stepsPerLevel?: number; eps?: number };
    /** a final denoising step x ← x + σ_L² s_θ(x, σ_L) after the Langevin chain (Tweedie's estimate; default true) */
    denoise?: boolean;
    /** noise network: 'mlp' (default on points) or 'unet' (default on images), the ε-networks of ddpm; s_θ = −ε_θ/σ */
    net?: 'mlp' | 'unet';
    /** MLP hidden sizes (default [128, 128, 128] on points, [512, 512, 512] on images) */
    hidden?: number[];
    /** U-Net channels per resolution (default [16, 32, 64]) */
    channels?: number[];
    /** U-Net: one self-attention layer at quarter resolution (default true) */
    attention?: boolean;
    /** width of the sinusoidal embedding of the noise level (default 32 on points, 64 on images) */
    timeEmbed?: number;
    /** samples drawn for the validation sample metrics on 2-D points (default 1000) */
    evalSamples?: number;
    /** exponential moving average of the weights for sampling and evaluation (decay; 0 = off; default 0.999) */
    ema?: number;
  }
  interface ScoreFieldOptions {
    /** the dataset (its validation split drawn faintly; its modes give the analytic score) */
    data?: Dataset;
    /** levels to draw, 1-based indices into the ladder (default 4 evenly spaced from σ_1 to σ_L) */
    levels?: number[];
    /** arrows per side of the grid (default 17, at most 40) */
    grid?: number;
  }
  interface ScoreFieldResult {
    /** the σ of each panel */
    sigmas: number[];
    /** with known modes: per panel, ‖s_θ − s*‖ / ‖s*‖ over the grid points (s* the analytic score of the blurred mixture) */
    relError?: number[];
  }
  interface LangevinPathsOptions {
    /** chains drawn as paths (default 24 on points, 8 on images) */
    chains?: number;
    /** chains run in all, whose end points are shown and scored (default 1000 on points; images: `chains`) */
    n?: number;
    /** record the paths every this many steps (default: a tenth of a level's steps on points; one frame per level on images) */
    every?: number;
    /** seed of the start and of the injected noise (default 1234) */
    seed?: number;
    /** 2-D: the dataset drawn faintly behind (validation split), the reference of `mmd` */
    data?: Dataset;
  }
  interface LangevinPathsResult {
    /** the σ of each level */
    sigmas: number[];
    /** frames recorded per chain */
    frames: number;
    /** 2-D with `data`: MMD (kind 'sample') between the `n` end points and up to 1000 validation points */
    mmd?: number;
    /** images: the PNG under artifacts */
    path?: string;
  }
  interface ProcessFrames {
    /** number of frames shown */
    frames: number;
    /** the t of each frame, in the order shown */
    t: number[];
    /** ᾱ_t of each frame */
    alphaBar: number[];
    /** per frame: the standard deviation of the values in diffusion space (images in [−1, 1]), pooled over dimensions */
    std: number[];
    /** images: the PNG under artifacts; 2-D: absent (the figure is a plot output) */
    path?: string;
    /** reverseProcess on 2-D points with `data`: MMD (kind 'sample') between the final samples and up to 1000 of the data's points */
    mmd?: number;
  }

  /** Annealed importance sampling for log Z. */
  interface AisSettings {
    /** annealing runs (default 100) */
    chains?: number;
    /** intermediate distributions (default 2000) */
    betas?: number;
  }
  /** A flow's base distribution: 'gaussian' or 'logistic' (NICE's default). */
  type Prior = 'gaussian' | 'logistic';
  /** How a flow sees images: 'logit' (logit(0.05 + 0.9u), counted in the log-det) or 'none'. */
  type Preprocess = 'logit' | 'none';

  interface BoltzmannConfig {
    /** hidden units (default 0: a fully visible Boltzmann machine) */
    hidden?: number;
    /** couplings start uniform in (-initScale, initScale), biases at 0 (default 0.1) */
    initScale?: number;
  }

  interface DbmConfig {
    /** the two hidden layer sizes (default [500, 1000]) */
    layers?: number[];
    /** Gibbs steps of the persistent chains per update (default 1) */
    k?: number;
    /** fraction of the run spent on layer-wise pretraining (default 0.3) */
    pretrain?: number;
    /** pretraining steps (both RBMs together); overrides `pretrain` */
    pretrainSteps?: number;
    /** mean-field iterations in training (default 10) */
    meanFieldIters?: number;
    /** mean-field iterations for testNll (default 30) */
    testMeanFieldIters?: number;
    /** weights start N(0, initScale²) (default 0.01) */
    initScale?: number;
    /** Gibbs steps for `sample` (default 1000) */
    sampleSteps?: number;
    /** AIS settings for log Z (default 100 chains, 2000 betas) */
    ais?: AisSettings;
  }

  interface HopfieldConfig {
    /** number of units N */
    units: number;
  }

  interface DbnConfig {
    /** hidden layer sizes, bottom to top (default [500, 500]) */
    layers?: number[];
    /** Gibbs steps of each RBM's negative chain (default 1) */
    k?: number;
    /** PCD instead of CD (default false) */
    persistent?: boolean;
    /** training steps per layer; default: lab.train's steps split evenly (see the top of the file) */
    layerSteps?: number;
    /** weights start N(0, initScale²) (default 0.01) */
    initScale?: number;
    /** Gibbs steps in the top RBM for `sample` (default 1000) */
    sampleSteps?: number;
    /** draws of q(h|v) per example in testNll's bound (default 10) */
    boundSamples?: number;
    /** AIS settings for the top RBM's log Z (default 100 chains, 2000 betas) */
    ais?: AisSettings;
  }

  interface MadeConfig {
    /** hidden layer sizes (default [500]) */
    hidden?: number[];
    /** number of orders/connectivities to train and ensemble (default 1: the natural order) */
    masks?: number;
    /** with masks > 1, also shuffle the input order (default true); false resamples connectivity only */
    resampleOrder?: boolean;
  }

  interface NadeConfig {
    /** hidden units (default 100; the paper's MNIST result uses 500, at 5x the memory) */
    hidden?: number;
  }

  interface WavenetConfig {
    /** residual channels (default 32) */
    channels?: number;
    /** skip channels (default 64) */
    skipChannels?: number;
    /** layers per stack, dilations 1, 2, ..., 2^(layers-1) (default 6) */
    layers?: number;
    /** stacks of dilated layers (default 2) */
    stacks?: number;
  }

  interface CharLmConfig {
    /** 'attention' (default) or 'gru' */
    kind?: 'attention' | 'gru';
    /** width of the embedding and hidden state (default 128) */
    dim?: number;
    /** transformer blocks (attention only, default 2) */
    layers?: number;
    /** attention heads (attention only, default 4; must divide dim) */
    heads?: number;
  }

  interface PixelCnnConfig {
    /** feature maps of every hidden layer (default 32) */
    filters?: number;
    /** 3x3 type-B layers after the 7x7 type-A one (default 4) */
    layers?: number;
    /** size of the first (type A) kernel (default 7) */
    firstKernel?: number;
    /** the gated PixelCNN: vertical + horizontal stacks, gates, no blind spot (default false) */
    gated?: boolean;
  }

  interface NiceConfig {
    /** coupling layers (default 4) */
    couplings?: number;
    /** hidden layers of each coupling's network (default [256, 256]; the paper: 5 of 1000) */
    hidden?: number[];
    prior?: Prior;
    /** images only: 'none' (the paper: dequantized values in [0,1]) or 'logit' */
    preprocess?: Preprocess;
  }

  interface GlowConfig {
    /** squeeze levels on images (default 2: 28x28x1 -> 14x14x4 -> 7x7x16) */
    levels?: number;
    /** flow steps per level (default 4) */
    steps?: number;
    /** hidden layers of each coupling's network (default [256, 256]) */
    hidden?: number[];
    /** coupling networks: 'mlp' (default) or 'conv' (3x3 convolutions, `hidden` channels; images only) */
    net?: 'mlp' | 'conv';
    /** multi-scale: after each level but the last, half the channels go to the prior (default true) */
    factorOut?: boolean;
    prior?: Prior;
    preprocess?: Preprocess;
  }

  interface MafConfig {
    /** autoregressive layers (default 5) */
    layers?: number;
    /** hidden layers of each MADE (default [512]) */
    hidden?: number[];
    prior?: Prior;
    preprocess?: Preprocess;
  }

  interface RealNvpConfig {
    /** coupling layers of the single-scale stack (scales: 0, or points; default 8) */
    couplings?: number;
    /** images: squeeze + factor-out levels (default 2: 28x28x1 -> 14x14x2 -> 7x7x4); 0 = one scale */
    scales?: number;
    /** hidden layers of each coupling's network (default [256, 256]; with net 'conv', channels: [64, 64]) */
    hidden?: number[];
    /** coupling networks: 'mlp' (default) or 'conv' (3x3 convolutions; images only, as in the paper) */
    net?: 'mlp' | 'conv';
    /** 'checkerboard' (default; alternate units off images) or 'halves' */
    mask?: 'checkerboard' | 'halves';
    prior?: Prior;
    preprocess?: Preprocess;
  }

  interface AutoencoderConfig {
    /** code dimensions (default 16) */
    latentDim?: number;
    /** hidden sizes of the encoder; the decoder mirrors them (default [512, 256]) */
    hidden?: number[];
    /** reconstruction loss; default 'bce' on binary data, else 'mse' */
    loss?: 'bce' | 'mse';
  }

  interface EbmConfig {
    /** hidden sizes of the energy network E(x), an MLP with LeakyReLU (default [256, 128]) */
    hidden?: number[];
    /** Langevin steps per training step, from the replay buffer (default 30) */
    steps?: number;
    /** α of the Langevin step u ← u − (α/2)∇E(u) + s·z, in model units u = 2x − 1 (default 20) */
    stepSize?: number;
    /** s, the noise std of each Langevin step (default 0.01; the theory's √α is far larger) */
    noise?: number;
    /** rows in the replay buffer (default 10000) */
    bufferSize?: number;
    /** the fraction of chains started from the buffer, the rest from uniform noise (default 0.95) */
    replay?: number;
    /** weight λ of the energy regulariser λ(E(x+)² + E(x−)²) (default 0.1) */
    alpha?: number;
    /** Langevin steps from uniform noise when sampling (default 200) */
    sampleSteps?: number;
  }

  interface GsnConfig {
    /** size of the latent state h (default 256) */
    hiddenSize?: number;
    /** corruption C(x̃ | x): 'saltpepper' on binary data (the default there), else 'gaussian' */
    corruption?: 'saltpepper' | 'gaussian';
    /** corruption strength: the salt-and-pepper replacement probability, or the Gaussian std (default 0.3) */
    noise?: number;
    /** std of the Gaussian noise injected into h before and after its nonlinearity (default 0.5) */
    hiddenNoise?: number;
    /** walk-back steps of the chain per training example (default 4) */
    walkback?: number;
    /** chain steps that `sample` runs from random pixels (default 50) */
    chainSteps?: number;
  }

  interface DaeConfig extends AutoencoderConfig {
    /** corruption: 'saltpepper' (a pixel becomes a random bit with probability `noise`) on binary data, else 'gaussian' */
    corruption?: 'saltpepper' | 'gaussian';
    /** corruption strength: the replacement probability, or the Gaussian std (default 0.3) */
    noise?: number;
    /** walk-back steps per example (default 1 = a plain denoising autoencoder) */
    walkback?: number;
    /** Markov-chain steps that `sample` runs from random inputs (default 50) */
    chainSteps?: number;
  }

  interface SbnConfig {
    /** hidden units per layer, bottom (next to the visible units) to top (default [200]) */
    layers?: number[];
    /**
     * 'nvil' (default): the ELBO with a score-function recognition gradient, centred by an input-dependent
     * baseline and a running mean, scaled by a running std (Mnih & Gregor 2014); 'wake-sleep': the wake phase
     * fits p to (v, h ~ q), the sleep phase fits q to dreams (h, v) ~ p
     */
    train?: 'wake-sleep' | 'nvil';
    /** importance samples of lab.evaluate's bound (default 100; lab.evaluate's `k` overrides it) */
    evalK?: number;
    /** hidden units of the baseline net C(v) (default 100) */
    baselineHidden?: number;
    /** decay of the running mean and variance of the learning signal (default 0.8) */
    signalDecay?: number;
  }

  interface NaiveBayesConfig {
    /** Laplace smoothing: pseudo-counts added to every count (default 1; 0 = maximum likelihood, which gives log 0 for unseen pixels) */
    alpha?: number;
  }

  interface NgramConfig {
    /** the order: each symbol depends on the n - 1 before it (default 3) */
    n?: number;
    /** pseudo-counts per symbol added at each order (default 0.05) */
    k?: number;
  }

  interface KdeConfig {
    /** the kernel's standard deviation h, or 'validation' (default): chosen on validation data from `bandwidths` */
    bandwidth?: number | 'validation';
    /** the grid of bandwidths 'validation' tries (default 24 values, log-spaced over [0.01, 3] x the data's spread) */
    bandwidths?: number[];
    /** the most training points kept (default 10000) */
    maxPoints?: number;
  }

  interface PcaConfig {
    /** latent dimensions q, 1 .. D - 1 (default min(16, D - 1)) */
    components?: number;
  }

  interface ModelsApi {
    /**
     * Variational autoencoder: MLP encoder / decoder, reparameterized, closed-form KL.
     * Reports train/loss (−ELBO per example, nats), train/recon, train/kl and on validation
     * val/elbo and val/bits_per_dim (kind 'bound': a lower bound on log p(x)). lab.evaluate gives
     * −IWAE with `evalK` samples (kind 'bound').
     */
    vae(cfg?: VaeConfig): LikelihoodModel;
    /**
     * Conditional VAE: q(z|x,y) and p(x|z,y) with the one-hot class y of each row (labelled data:
     * lab.data.mnist(), fashionMnist()). Its NLL is −log p(x|y): not comparable with an unconditional model.
     */
    cvae(cfg?: Omit<VaeConfig, 'conditional'>): LikelihoodModel;
    /**
     * Hierarchical VAE (ladder VAE): stochastic layers z_L → … → z_1 → x with learned Gaussian priors
     * p(z_l|z_{l+1}), and an inference model that merges a bottom-up estimate with the top-down prior
     * (precision-weighted). Reports train/loss (−ELBO, nats), train/recon, train/kl and train/kl_z1 … z_L;
     * on validation val/elbo and val/bits_per_dim (kind 'bound'), val/kl_z<l> and val/active_units_z<l>
     * (kind 'info'). lab.evaluate gives −IWAE with `evalK` samples (or its `k`; kind 'bound'), with
     * the bound at 4k and the importance weights' ESS in `convergence`.
     */
    hvae(cfg?: HvaeConfig): LikelihoodModel;
    /**
     * Generative adversarial network (MLP or conv): minimax or non-saturating G loss, `dSteps` D updates per G update,
     * dropout and spectral norm in D. Reports train/d_loss, train/g_loss, train|val/d_real, d_fake, d_accuracy (info);
     * on toy mixtures val/mode_dist, val/modes_covered, val/high_quality (kind 'sample'). No likelihood:
     * lab.evaluate scores its samples.
     */
    gan(cfg?: GanConfig): AdversarialModel;
    /** DCGAN: transposed convolutions + batch norm + ReLU in G, strided convolutions + LeakyReLU in D (28×28 images). */
    dcgan(cfg?: DcganConfig): AdversarialModel;
    /** WGAN: a critic without sigmoid, weight clipping (±0.01), 5 critic steps per G step, Adam β1 = 0, β2 = 0.9; train|val/w_dist. */
    wgan(cfg?: WganConfig): AdversarialModel;
    /** WGAN-GP: the gradient penalty λ(‖∇D(x̂)‖ − 1)² (λ = 10) on random interpolates (a second derivative); train/gp, train/grad_norm. */
    wganGp(cfg?: WganGpConfig): WganGp;
    /** LSGAN: least-squares losses (a = 0, b = 1, c = 1). */
    lsgan(cfg?: LsganConfig): AdversarialModel;
    /** Conditional GAN (labelled data): the one-hot class into G and D; rows of a sample grid cycle through the classes. */
    cgan(cfg?: GanConfig): Cgan;
    /**
     * Fully visible sigmoid belief network on binary data: p(x_i = 1 | x_<i) = σ(b_i + Σ_{j<i} W_ij x_j).
     * Reports train/loss and val/nll (nats), val/bits_per_dim, all 'exact'.
     */
    fvsbn(cfg?: Record<string, never>): LikelihoodModel;
    /** NADE on binary data: shared hidden weights, O(D·H) per example, exact likelihood. */
    nade(cfg?: NadeConfig): LikelihoodModel;
    /**
     * MADE on binary data: a masked MLP, exact likelihood in one pass. `masks: K > 1` trains K
     * orders/connectivities (one per step) and evaluates their mixture (still exact).
     */
    made(cfg?: MadeConfig): LikelihoodModel;
    /**
     * PixelCNN on binary images (H×W, or H×W×C with channels generated R → G → B inside each pixel): a 7×7 type-A masked convolution, `layers` 3×3
     * type-B ones, two 1×1 convolutions; one Bernoulli logit per pixel, exact likelihood.
     */
    pixelcnn(cfg?: PixelCnnConfig): LikelihoodModel;
    /**
     * NICE: additive couplings + diagonal scaling, logistic prior. On grey images the data are
     * dequantized and the NLL reported on the 8-bit scale (bits/dim); on points as they are.
     */
    nice(cfg?: NiceConfig): LikelihoodModel;
    /**
     * RealNVP: affine couplings, Gaussian prior, logit pre-transform on images. On images, `scales`
     * (default 2) multi-scale levels of 3 checkerboard couplings → squeeze → 3 channel-mask couplings →
     * half the channels factored out; `scales: 0` (and points) is one stack of `couplings` couplings.
     */
    realnvp(cfg?: RealNvpConfig): LikelihoodModel;
    /** MAF: MADE-based affine layers, density in one pass, sampling in D passes per layer. */
    maf(cfg?: MafConfig): LikelihoodModel;
    /** IAF: sampling in one pass, density in D passes (trains on data of at most 64 dimensions). */
    iaf(cfg?: MafConfig): LikelihoodModel;
    /**
     * Glow: per level a squeeze, then `steps` of ActNorm → invertible 1×1 convolution (LU form)
     * → affine coupling on half the channels (fully connected coupling networks).
     */
    glow(cfg?: GlowConfig): LikelihoodModel;
    /**
     * WaveNet on mu-law audio: causal dilated convolutions (kernel 2, dilations 1, 2, 4, ... per
     * stack), gated tanh·sigmoid units, residual and skip connections, a 256-way softmax.
     * Exact NLL in nats per window; bits/dim is bits per sample.
     */
    wavenet(cfg?: WavenetConfig): LikelihoodModel;
    /**
     * Character-level language model: `kind: 'attention'` (default; causal self-attention
     * blocks) or `'gru'`. Exact NLL in nats per row; bits/dim is bits per character.
     * `await model.complete(prompt, { n, length, seed, temperature })` continues a prompt.
     */
    charlm(cfg?: CharLmConfig): CharLm;
    /**
     * A plain autoencoder x → code → x (Bernoulli cross-entropy on binary data, squared error otherwise).
     * No likelihood and no prior: its samples decode codes from N(0, I), which it never learned to decode —
     * the reason the VAE exists. Reports train/loss, val/recon and val/code_std.
     */
    autoencoder(cfg?: AutoencoderConfig): SampleModel;
    /**
     * Denoising autoencoder, sampled as a Markov chain: corrupt, denoise (draw from p(x | x̃)), repeat.
     * `walkback: k` runs k chain steps from each training image and pulls every reconstruction back to it.
     * Reports train/loss, val/recon, val/denoise. No likelihood.
     */
    dae(cfg?: DaeConfig): SampleModel;
    /**
     * Energy-based model on images, p(x) ∝ exp(−E(x)) with E an MLP, trained by maximum likelihood with
     * model samples from short-run Langevin dynamics started from a replay buffer (95% buffer, 5% noise), and a
     * regulariser on energy magnitudes. Samples: a longer Langevin run from noise; `lab.views.chain` shows it.
     * Reports train/loss, train/cd, train/e_data, train/e_sample, train/fresh and val/e_data, val/e_noise,
     * val/e_sample, val/e_gap (all 'info'). No likelihood (log Z is unknown): lab.evaluate scores samples.
     */
    ebm(cfg?: EbmConfig): Ebm;
    /**
     * Generative stochastic network (Bengio et al. 2014): a Markov chain with a latent state,
     * h_t = f(h_{t−1}, x̃_{t−1}) with noise injected into h, x̃ a salt-and-pepper corruption of x_{t−1},
     * x_t ~ p(x | h_t); trained by denoising reconstruction of the clean x at every step of a walk.
     * `lab.views.chain` shows its chain; `model.chain({ ..., reset: true })` runs it with h forgotten each step. Reports train/loss, train/recon_first, train/recon_last ('loss'/'info'),
     * val/recon ('info'). No likelihood: lab.evaluate scores samples.
     */
    gsn(cfg?: GsnConfig): Gsn;
    /**
     * Sigmoid belief network: directed layers of binary units, p(h^{l-1}=1 | h^l) = σ(W h^l + b), a factorial
     * top layer, with a recognition net q(h|v) of sigmoid layers; trained by wake-sleep or NVIL (`train`).
     * Reports train/elbo (kind 'bound', one posterior draw), train/loss (−train/elbo), wake-sleep's
     * train/wake and train/sleep, NVIL's signal statistics, and val/elbo, val/bits_per_dim (kind 'bound').
     * lab.evaluate gives −log (1/k) Σ p(x,h_i)/q(h_i|x) with `evalK` (or `k`) samples (kind 'bound'),
     * and the same at 4k with the importance weights' ESS in `convergence` (tolerance 0.5 nats).
     */
    sbn(cfg?: SbnConfig): LikelihoodModel;
    /**
     * Hopfield network: `store` patterns (0/1 or ±1) with the Hebbian rule W = (1/N) Σ ξξᵀ, zero diagonal;
     * `recall` from a corrupted state by asynchronous sign updates, which never raise E(s) = −½ sᵀWs.
     * Not trained by lab.train. `lab.models.hopfield.randomPatterns(count, units, seed)` makes ±1 patterns.
     */
    hopfield: ((cfg: HopfieldConfig) => Hopfield) & {
      /** `count` random ±1 patterns */
      randomPatterns(count: number, units: number, seed?: number): Float32Array[];
      /** a copy with exactly round(fraction·N) units flipped, in the pattern's own convention (0/1 or ±1) */
      corrupt(pattern: ArrayLike<number>, fraction: number, seed?: number): Float32Array;
      overlap(a: ArrayLike<number>, b: ArrayLike<number>): number;
      /** recall rates of random patterns against how many are stored */
      capacity(opts: { units?: number; counts: number[]; flip?: number; trials?: number; seed?: number }): { load: number[]; recalled: number[]; exact: number[]; overlap: number[]; theory: number };
    };
    /**
     * A small fully connected Boltzmann machine on binary data: E(x) = −½ xᵀUx − bᵀx over visible and
     * `hidden` units (at most 20 in all). log Z, log p(v) and the gradient are exact by enumerating
     * every state, so `val/nll` and lab.evaluate are 'exact'. Train with full batches.
     * `await model.probabilities()` gives p(v) over all 2^D states; `await model.gibbs({ n, steps, clamp, init })` runs chains.
     */
    boltzmann(cfg?: BoltzmannConfig): LikelihoodModel;
    /**
     * Restricted Boltzmann machine: Bernoulli–Bernoulli on binary data, Gaussian–Bernoulli (one σ) otherwise.
     * Trained by CD-k, or PCD with `persistent: true`. Curves show proxies (val/recon, free energies,
     * pseudo-likelihood); lab.evaluate gives F(v) + log Z with log Z from annealed importance sampling:
     * kind 'estimate', with `stderr` (exact when one layer is small enough to enumerate).
     */
    rbm(cfg?: RbmConfig): LikelihoodModel;
    /**
     * Gaussian–Bernoulli RBM with a learned σ per visible unit: E = Σ (v−b)²/2σ² − cᵀh − (v/σ)ᵀWh, trained by CD-k or
     * PCD (default) with log σ moving at `sigmaLr` × the learning rate above a floor. Grey-level images are dequantized
     * and scored on the flows' 8-bit scale. lab.evaluate: F(v) + log Z with log Z = log Z' + Σ log σ (Z' of the
     * unit-variance machine by AIS): kind 'estimate' with `stderr` (exact when the hidden layer can be enumerated).
     */
    gbrbm(cfg?: GbrbmConfig): LikelihoodModel;
    /**
     * Deep belief network: RBMs stacked greedily (lab.train's steps split over the layers). Samples by Gibbs
     * steps in the top RBM, then one pass down. lab.evaluate: the variational bound on log p(v) with the top
     * RBM's log Z by AIS (an estimate of a bound, kind 'estimate').
     */
    dbn(cfg?: DbnConfig): LikelihoodModel;
    /**
     * Deep Boltzmann machine with two hidden layers: layer-wise pretraining (a `pretrain` fraction of the run),
     * then mean-field inference for the data term and persistent Gibbs chains for the model term.
     * lab.evaluate: the mean-field bound with log Z by AIS (kind 'estimate').
     */
    dbm(cfg?: DbmConfig): LikelihoodModel;
    /**
     * Convolutional RBM with probabilistic max-pooling (Lee et al. 2009) on binary images: `filters` shared F×F filters,
     * hidden maps of the valid size split into `pool`×`pool` blocks in which at most one unit is on. Trained by CD-k
     * (or PCD) with a sparsity regularizer. Curves show proxies (val/recon, free energy, pseudo-likelihood, val/sparsity);
     * lab.evaluate gives F(v) + log Z with log Z from annealed importance sampling: kind 'estimate' with `stderr`, and
     * (unless `convergence: false`) the estimate at 4× the temperatures with the weights' ESS (exact on images of ≤ 20 pixels).
     * lab.views.filters shows its filters, lab.views.poolingMaps a digit's hidden and pooling maps, lab.views.chain its Gibbs chain.
     */
    convrbm(cfg?: ConvRbmConfig): LikelihoodModel;
    /**
     * Gaussian mixture by EM (k-means++ then k-means initialisation); one training step = one EM iteration on the
     * batch (exact with batchSize = data.train.n, stochastic otherwise); exact density in nats (kind 'exact').
     * `lab.models.gmm.select(data, { ks })` picks K by BIC = −2 log L + p log N.
     */
    gmm: ((cfg?: GmmConfig) => Gmm) & { select(data: Dataset, opts?: { ks?: number[]; covariance?: GmmCovariance; seed?: number; iters?: number; tol?: number; restarts?: number; reg?: number }): GmmSelection };
    /**
     * Bernoulli naive Bayes on binarized labelled images, p(x, y) = p(y) Π p(x_i|y), Laplace `alpha` (default 1);
     * counts one pass of the data; val/accuracy; lab.evaluate: −log p(x) with y summed out (exact).
     */
    naiveBayes(cfg?: NaiveBayesConfig): NaiveBayes;
    /**
     * Parzen windows (Gaussian kernel on the training points); `bandwidth` a number or 'validation' (default,
     * over `bandwidths`, 24 log-spaced values); at most `maxPoints` (default 10000). NLL kind 'estimate':
     * a poor judge of high-dimensional models (Theis et al. 2016).
     */
    kde(cfg?: KdeConfig): Kde;
    /** n-gram language model over symbols (default n = 3, at most 7), add-k (default 0.05) interpolated down the orders; exact NLL, val/perplexity. */
    ngram(cfg?: NgramConfig): Ngram;
    /** Probabilistic PCA (components default min(16, D−1)) in closed form from one pass; exact NLL (8-bit scale on grey images); the linear baseline. */
    pca(cfg?: PcaConfig): Pca;
    /** Generative moment matching network: an MLP generator trained to minimize MMD² (Gaussian kernels) to the data; no likelihood. */
    gmmn(cfg?: GmmnConfig): Gmmn;
    /**
     * DDPM (Ho et al. 2020): ε-prediction trained with ‖ε − ε_θ(x_t, t)‖², ancestral sampling from x_T ~ N(0, I); on 2-D points
     * an MLP, on images a small U-Net. lab.evaluate: the variational bound on dequantized images (kind 'bound'); judge samples
     * with `{ likelihood: false }` (FID & co, or MMD on points).
     */
    ddpm(cfg?: DdpmConfig): LikelihoodModel;
    /**
     * Score-based model (NCSN, Song & Ermon 2019): s_θ(x, σ) ≈ ∇_x log p_σ(x) by σ²-weighted denoising score matching,
     * ‖σ s_θ(x + σε, σ) + ε‖² over a geometric ladder of σ; samples by annealed Langevin dynamics (then one denoising step).
     * Reports train/loss and val/loss (kind 'loss', per coordinate), val/loss_level1..L (kind 'info'), and on 2-D points
     * val/mmd, val/mode_dist, val/modes_covered, val/high_quality (kind 'sample'). No likelihood: lab.evaluate scores its
     * samples (MMD on points, FID & co on images; kind 'sample').
     */
    score(cfg?: ScoreConfig): SampleModel;
    /**
     * Flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023): v_θ(x_t, t) regressed on x_1 − x_0 along straight
     * paths x_t = (1 − t) x_0 + t x_1 from N(0, I) to the data; samples by integrating dx/dt = v_θ with a fixed-step ODE
     * solver. lab.evaluate: log p by the instantaneous change of variables with Hutchinson's trace estimator (kind
     * 'estimate', with its spread over `probes` and the estimate at 4× them; 8-bit scale on dequantized images).
     */
    flowMatching(cfg?: FlowMatchingConfig): LikelihoodModel;
  }

  interface FlowMatchingConfig {
    /** ODE solver of sampling and of the likelihood: 'euler', 'midpoint' or 'rk4' (classical Runge–Kutta, default) */
    solver?: 'euler' | 'midpoint' | 'rk4';
    /** fixed steps of the solver from t = 0 to 1 (default 20; rk4 evaluates the network 4 times a step) */
    odeSteps?: number;
    /** σ_min of the conditional path x_t = (1 − (1 − σ_min) t) x_0 + t x_1 (default 0: rectified flow) */
    sigmaMin?: number;
    /** velocity network: 'mlp' (default on points) or 'unet' (default on images), the diffusion family's time-conditioned nets */
    net?: 'mlp' | 'unet';
    /** MLP hidden sizes (default [128, 128, 128] on points, [512, 512, 512] on images) */
    hidden?: number[];
    /** U-Net channels per resolution (default [16, 32, 64]) */
    channels?: number[];
    /** U-Net: one self-attention layer at quarter resolution (default true) */
    attention?: boolean;
    /** width of the sinusoidal time embedding (default 32 on points, 64 on images) */
    timeEmbed?: number;
    /** Hutchinson probes per example of the likelihood estimate (default 4; lab.evaluate's `probes` overrides it) */
    probes?: number;
    /** the probes' distribution: 'rademacher' (±1, default) or 'gaussian' */
    probe?: 'rademacher' | 'gaussian';
    /** exponential moving average of the weights for sampling and evaluation (decay; 0 = off; default 0.999) */
    ema?: number;
    /** samples of val/mmd on 2-D points (default 1000) */
    evalSamples?: number;
  }
  interface TrajectoriesResult {
    /** the times of the solver's steps, 0 … 1 */
    t: number[];
    /** mean over trajectories of |x(1) − x(0)| / path length: 1 for straight paths */
    straightness: number;
    /** mean path length of the trajectories */
    pathLength: number;
    /** with `data`: MMD (kind 'sample') between the trajectories' end points and up to 1000 of the data's points */
    mmd?: number;
  }
  interface VelocityFieldResult {
    /** the times drawn */
    t: number[];
    /** per time: the mean speed |v(x, t)| over the grid */
    meanSpeed: number[];
  }

  interface GbrbmConfig {
    /** hidden units (default 200) */
    hidden?: number;
    /** Gibbs steps of the negative chain (default 1) */
    k?: number;
    /** persistent contrastive divergence (default true) */
    persistent?: boolean;
    /** σ at the start: a number for every unit, or 'auto' (the first batch's per-unit standard deviations, each at least a tenth of their mean; default) */
    sigma?: number | 'auto';
    /** learn σ (default true); false keeps its starting values */
    learnSigma?: boolean;
    /** log σ moves at this fraction of the learning rate (with Adam; default 0.1): log σ = sigmaLr · s, s trained */
    sigmaLr?: number;
    /** the smallest σ (default 'auto': one grey level's 1/(256√12) on images, 1e-3 otherwise) */
    sigmaFloor?: number | 'auto';
    /** weights start N(0, initScale²) (default 0.01) */
    initScale?: number;
    /** Gibbs steps behind each sample (default 1000) */
    sampleSteps?: number;
    /** annealed importance sampling for log Z' (default 100 chains, 2000 intermediate distributions) */
    ais?: AisSettings;
  }

  interface RbmConfig {
    /** hidden units (default 500) */
    hidden?: number;
    /** visible units (default 'bernoulli' on binary data, else 'gaussian') */
    visible?: 'bernoulli' | 'gaussian';
    /** Gibbs steps of the negative chain (default 1) */
    k?: number;
    /** persistent contrastive divergence (default false) */
    persistent?: boolean;
    /** Gaussian visible units: their standard deviation, or 'auto' (the first batch's; default) */
    sigma?: number | 'auto';
    /** weights start N(0, initScale²) (default 0.01) */
    initScale?: number;
    /** Gibbs steps behind each sample (default 1000) */
    sampleSteps?: number;
    /** annealed importance sampling for log Z (default 100 chains, 2000 intermediate distributions) */
    ais?: AisSettings;
  }

  interface ConvRbmConfig {
    /** filters K, one hidden map each (default 24) */
    filters?: number;
    /** filter side F (default 7: 28×28 digits give 22×22 maps) */
    filterSize?: number;
    /** pooling block side C; it must divide the map's sides (default 2) */
    pool?: number;
    /** Gibbs steps of the negative chain (default 1) */
    k?: number;
    /** persistent contrastive divergence (default false) */
    persistent?: boolean;
    /** target mean activation of the hidden units (default 0.02) */
    sparsity?: number;
    /** λ of the sparsity update: hidden bias c_k gets the extra gradient λ·(units per map)·(mean activation of map k − sparsity) (default 1) */
    sparsityCost?: number;
    /** filters start N(0, initScale²) (default 0.01) */
    initScale?: number;
    /** Gibbs steps behind each sample (default 1000) */
    sampleSteps?: number;
    /** annealed importance sampling for log Z (default 100 chains, 2000 intermediate distributions) */
    ais?: AisSettings;
  }

  interface Hopfield {
    readonly units: number;
    /** patterns stored so far */
    readonly patterns: number;
    store(patterns: ArrayLike<number> | ArrayLike<number>[]): Hopfield;
    clear(): void;
    energy(state: ArrayLike<number>): number;
    /** run from `state` to a fixed point (or `steps` sweeps); frames are 0/1 states every `every` updates */
    recall(state: ArrayLike<number>, opts?: { steps?: number; mode?: 'async' | 'sync'; seed?: number; every?: number }): { frames: Float32Array[]; energies: number[]; state: Float32Array; converged: boolean; sweeps: number; flips: number };
    /** m = (1/N) Σ a_i b_i read as ±1 */
    overlap(a: ArrayLike<number>, b: ArrayLike<number>): number;
  }

  interface CharLm extends LikelihoodModel {
    /** `n` continuations of `prompt`, `length` characters in all, drawn with `seed` (await it: each character's probabilities are read back) */
    complete(prompt: string, opts?: { n?: number; length?: number; seed?: number; temperature?: number }): Promise<string[]>;
  }

  interface FlowConfig {
    /** hidden layer sizes of each coupling / autoregressive network */
    hidden?: number[];
    /** 'gaussian' or 'logistic' (NICE's default) */
    prior?: 'gaussian' | 'logistic';
    /** images: 'logit' (logit(0.05 + 0.9u), counted in the log-det) or 'none' */
    preprocess?: 'logit' | 'none';
    /** realnvp and glow: coupling networks, 'mlp' (default) or 'conv' (3×3 convolutions with `hidden` channels; images only) */
    net?: 'mlp' | 'conv';
  }

  /** lab.evaluate's options. */
  interface EvaluateOptions {
    /** false: only the sample metrics, even for a model with a likelihood (skips a slow bound or AIS) */
    likelihood?: boolean;
    /** seed of the likelihood estimator and of the samples' noise (default 271828) */
    seed?: number;
    /** record the results on the run that trained the model (default true) */
    record?: boolean;
    /**
     * samples for sample metrics: default 1000 for a model without a likelihood; for one with a likelihood
     * they are computed only when this is given. FID and precision/recall shift with it: compare at equal counts.
     */
    samples?: number;
    /** samples per model.sample call (default 250) */
    batchSize?: number;
    /** at most this many (first) rows of the split are the reference (default 2000) */
    maxReference?: number;
    /**
     * annealed importance sampling (RBM, DBN, DBM): chains (a whole number >= 2) and intermediate temperatures
     * (>= 1); either one left out is the model's own `ais` setting. log Z is kept per weights, seed and these knobs,
     * so a second evaluation with the same ones does not anneal again.
     */
    ais?: { chains?: number; betas?: number };
    /** importance samples per example of an importance-sampled bound (VAE's IWAE, sigmoid belief net, hierarchical VAE; a whole number >= 1); default: the model's own (the VAE's `evalK`) */
    k?: number;
    /** random probes of Hutchinson's trace estimator (flow matching's likelihood); default: the model's own */
    probes?: number;
    /**
     * also run the estimator at 4× its knob (temperatures, k, probes) and report both in
     * `convergence` (default true for estimators that have a knob; false skips the longer run)
     */
    convergence?: boolean;
  }

  /** The knobs of a likelihood estimator, as lab.evaluate passes them to a model's testNll. */
  type EstimatorOptions = Pick<EvaluateOptions, 'ais' | 'k' | 'probes' | 'convergence'>;

  /**
   * Whether an estimate has converged in its knob: the estimator also runs at 4× the knob
   * (an independent seed) and `converged` is |nll4x − nll| < tolerance. What lab.evaluate
   * reports beside it:
   *  - AIS (RBM, DBN, DBM; kind 'estimate'): nll_nats is the 4× estimate (E[log Ẑ] ≤ log Z and
   *    the gap shrinks about like 1/temperatures, so the longer run is less optimistic), and
   *    stderr = max(the 4× run's delta-method standard error, |nll4x − nll|): it covers the
   *    chains' spread and what the schedule still leaves. An unconverged estimate is flagged
   *    (converged: false) and its error bar is at least the move.
   *  - IWAE (VAE; kind 'bound'): nll_nats is the bound at k over every example (a bound is
   *    never optimistic); the check at 4k runs on the first `rows` examples.
   * `lab.evaluate(..., { convergence: false })` skips the 4× run (nll_nats is then the estimate at the knob).
   */
  interface Convergence {
    /** the knob's name: 'betas' (AIS temperatures), 'k' (importance samples), 'probes' (Hutchinson) */
    knob: string;
    /** the knob's value asked for, and the NLL there (mean, nats) */
    at: number;
    nll: number;
    /** 4× the knob, and the NLL there */
    at4x: number;
    nll4x: number;
    /** nats: the most |nll4x − nll| may be for the estimate to count as converged (AIS and IWAE: 0.5) */
    tolerance: number;
    converged: boolean;
    /** importance-weight estimators: the effective sample size (Σw)²/Σw² of the weights at the knob used, out of `essOf` (IWAE: the mean over examples) */
    ess?: number;
    essOf?: number;
    /** the same at 4× the knob (out of 4 × essOf for IWAE, essOf for AIS, whose chains stay the same) */
    ess4x?: number;
    /** the examples nll and nll4x are means over, when the check ran on fewer than the split's (IWAE) */
    rows?: number;
    /** lab.evaluate: the check in words, e.g. 'not converged: 4× temperatures moved it by 3.20 nats (tolerance 0.5)' */
    note?: string;
  }

  /** Sample metrics of MNIST / Fashion-MNIST images on the pinned classifier's 64-d features (kind 'sample'). */
  interface ImageSampleMetrics {
    kind: 'sample';
    /** Fréchet distance of Gaussians fitted to the features (lower is better; biased up at small n) */
    fid: number;
    /** unbiased MMD² with the kernel (x·y/d + 1)³, mean over 100 subsets */
    kid: number;
    /** spread of KID over its subsets */
    kidStd: number;
    /** share of samples inside the real features' k-NN balls (k = 3) */
    precision: number;
    /** share of real features inside the samples' k-NN balls (k = 3) */
    recall: number;
    /** classes (of 10) predicted for at least half a uniform share of the samples */
    classCoverage: number;
    /** entropy of the predicted-class histogram, nats (ln 10 ≈ 2.303 when uniform) */
    classEntropy: number;
    classHistogram: number[];
    /** samples */
    n: number;
    /** reference rows of the split */
    nRef: number;
    /** the classifier's version name, e.g. 'mnist-mlp-v1' */
    classifier: string;
    /** the same version as a number (recorded as test/classifier_version) */
    classifierVersion: number;
    mmd?: undefined;
  }
  /** Sample metric of 2-D / tabular data: MMD with Gaussian kernels (median heuristic × 0.5, 1, 2). */
  interface PointSampleMetrics {
    kind: 'sample';
    mmd: number;
    n: number;
    nRef: number;
    fid?: undefined;
    kid?: undefined;
    kidStd?: undefined;
    precision?: undefined;
    recall?: undefined;
    classCoverage?: undefined;
    classEntropy?: undefined;
    classHistogram?: undefined;
    classifier?: undefined;
    classifierVersion?: undefined;
  }
  type SampleMetrics = ImageSampleMetrics | PointSampleMetrics;

  /** What lab.evaluate returns for a model with a likelihood. */
  interface LikelihoodEvaluation {
    /** mean negative log-likelihood per example, nats (8-bit scale for dequantized images) */
    nll_nats: number;
    bits_per_dim: number;
    /** 'exact' (autoregressive models, flows, small Boltzmann machines), 'bound' (a VAE's −ELBO or −IWAE) or 'estimate' (AIS, Parzen) */
    kind: 'exact' | 'bound' | 'estimate';
    /** examples evaluated */
    n: number;
    /** the run it was recorded on (the last one that trained the model), or null */
    runId: string | null;
    /** each example's NLL in nats */
    perExample: Float32Array;
    /** estimates (AIS): the standard error the estimator adds to nll_nats, in nats */
    stderr?: number;
    /** what the number rests on, e.g. { logZ, logZStderr, chains, betas } or { k } for IWAE */
    details?: Record<string, number>;
    /** estimators with a knob (AIS, IWAE k, Hutchinson probes): the estimate at the knob and at 4× it */
    convergence?: Convergence;
    /** sample metrics, when `samples` was given */
    sample?: SampleMetrics;
  }
  /** What lab.evaluate returns for a model without a likelihood (GANs, GMMN, autoencoders), or with `likelihood: false`: its sample metrics. */
  type SampleEvaluation = SampleMetrics & { runId: string | null };
  type Evaluation = LikelihoodEvaluation | SampleEvaluation;

  type Schedule =
    | 'constant'
    | 'step'
    | 'cosine'
    | 'exponential'
    | { type: 'constant'; warmup?: number }
    /** multiply by `gamma` (default 0.1) every `stepSize` steps (default steps/3) */
    | { type: 'step'; stepSize?: number; gamma?: number; warmup?: number }
    /** cosine decay to `minLr` (default 0) after `warmup` linear warm-up steps */
    | { type: 'cosine'; warmup?: number; minLr?: number }
    /** lr · gamma^(step / decaySteps) (defaults: gamma 0.1, decaySteps = steps) */
    | { type: 'exponential'; gamma?: number; decaySteps?: number; warmup?: number };

  interface TrainOptions {
    /** optimizer steps (default 2000) */
    steps?: number;
    /** examples per step (default 128) */
    batchSize?: number;
    /** optimizer (default 'adam') */
    optimizer?: 'sgd' | 'momentum' | 'rmsprop' | 'adagrad' | 'adam';
    /** base learning rate (default 1e-3) */
    lr?: number;
    /** learning-rate schedule (default 'constant') */
    schedule?: Schedule;
    /** clip gradients to this global L2 norm (default: no clipping) */
    clipNorm?: number | null;
    /** decoupled weight decay (AdamW style) on weight matrices, not biases (default 0) */
    weightDecay?: number;
    /** Adam β1 (default 0.9; 0.5 for GANs) */
    beta1?: number;
    /** Adam β2 (default 0.999) */
    beta2?: number;
    /** momentum of the 'momentum' optimizer (default 0.9) */
    momentum?: number;
    /** seed of every random draw of the run: init, batches, noise (default 1) */
    seed?: number;
    /** seed of the fixed noise bank behind sample grids: equal seeds give comparable grids (default 1234) */
    sampleSeed?: number;
    /** evaluate on validation every this many steps (default steps / 10) */
    evalEvery?: number;
    /** validation examples per evaluation (default 1000) */
    evalSize?: number;
    /** write a sample grid (images) or scatter (2-D) before the first step, every this many steps and at the last step (default 200) */
    sampleEvery?: number;
    /** write a periodic checkpoint every this many steps (default 1000) */
    checkpointEvery?: number;
    /** metric of the 'best' checkpoint (default val/elbo max for VAE, val/mode_dist min for GAN); false = none */
    best?: { key: string; mode: 'max' | 'min' } | false;
    /** run name (default '<family>-<data>') */
    name?: string;
    /** called after every step with that step's metrics (debugging; not recorded) */
    onStep?: (step: number, metrics: Record<string, number>) => void;
    /**
     * continue this run (its id) from its newest periodic/final checkpoint, with the same
     * model and options: weights and optimizer state are loaded, steps go on from the
     * checkpoint's, and what the run logged after it is dropped
     */
    resume?: string;
  }

  /** A PNG written under the run's artifacts; pass it to `lab.show`. */
  interface ImageHandle {
    /** path relative to the workspace's artifacts folder */
    readonly path: string;
    readonly caption?: string;
  }

  /** A training run (tracked: curves, samples and checkpoints appear in the Runs view). */
  interface Run {
    /** e.g. 'r-20250101-120000-a1b2' */
    readonly id: string;
    readonly name: string;
    readonly status: 'running' | 'finished' | 'stopped' | 'failed' | 'diverged' | 'crashed';
    /** steps done */
    readonly steps: number;
    /** error message of a failed run */
    readonly error: string | null;
    /** last value of each metric, e.g. run.metrics['val/elbo'] */
    readonly metrics: Record<string, number>;
    /** the trained model */
    readonly model: Model;
    /** the data it was trained on */
    readonly data: Dataset;
    /** every recorded value of one metric */
    history(key: string): { steps: number[]; values: number[] };
    /** draw `n` samples (default 64) and write them as a PNG: a grid for images, a scatter for 2-D data (await it) */
    samples(n?: number, seed?: number): Promise<ImageHandle>;
  }

  /** One point of a sweep: the settings the function receives. */
  type SweepParams = Record<string, any>;

  /**
   * What a sweep runs: a list of configs, every combination of a grid, or `n` random
   * draws (a list picks one value; `{ min, max, log?, int? }` draws from a range).
   */
  type SweepSpec =
    | SweepParams[]
    | { grid: Record<string, unknown[]> }
    | { random: Record<string, unknown[] | { min: number; max: number; log?: boolean; int?: boolean }>; n: number; seed?: number };

  interface SweepResult {
    /** e.g. 's-mbx1k2-a1b2' */
    readonly id: string;
    readonly name: string;
    /** the configs, in the order they ran */
    readonly configs: SweepParams[];
    /** every run trained during the sweep, in order */
    readonly runs: Run[];
    /** what each call of the function returned */
    readonly results: unknown[];
  }

  interface GanLabOptions {
    /** the updates to show, one per frame: 'd' = one discriminator update, 'g' = one generator update (default 'dgdgdgdg'; also a list, ['d', 'g']) */
    updates?: string | ('d' | 'g')[];
    /** learning rate of the Adam optimizer of each player (default 1e-3) */
    lr?: number;
    /** real rows per discriminator update, generated rows per update (default 256) */
    batchSize?: number;
    /** seed of the batches and codes of the updates, and of the shown generated points (default 1) */
    seed?: number;
    /** generated points shown (the same codes in every frame, so each point can be followed; default 300) */
    n?: number;
    /** generated points that carry a gradient arrow (default 40) */
    arrows?: number;
    /** heatmap cells per side (default 40) */
    size?: number;
    /** keep the updated weights (default false: the model is put back as it was) */
    keep?: boolean;
  }

  interface GanLabResult {
    frames: GanLabFrame[];
    /** each frame's label, e.g. ['start', 'step D', 'step G'] */
    labels: string[];
    dReal: number[];
    dFake: number[];
    criticKind: 'probability' | 'score';
    /** the heatmap's cell centres and each frame's critic output there, z[frame][row (y)][column (x)] */
    grid: { x: number[]; y: number[]; z: number[][][] };
  }

  interface ReverseProcessOptions {
    /** chains to run (default 1000 on 2-D points, 8 on images) */
    n?: number;
    /** frames to show, evenly spaced in t from T down to 0 (default 11 on points, 10 on images; at most 60) */
    frames?: number;
    /** reverse steps (default: the model's sampleSteps); frames fall on the t the chain visits */
    steps?: number;
    /** seed of x_T and of the chain's noise (default 1234) */
    seed?: number;
    /** 2-D: data drawn faintly behind the frames (a dataset: its validation split); also the reference of `mmd` */
    data?: Dataset | Split;
    /** σ_t² of this chain: 'beta' or 'posterior' (default: the model's `variance`) */
    variance?: 'beta' | 'posterior';
  }

  interface ForwardProcessOptions {
    /** examples to diffuse (default 1000 on 2-D points, 8 on images) */
    n?: number;
    /** frames, evenly spaced in t from 0 to T (default 11 on points, 10 on images; at most 60) */
    frames?: number;
    /** the t of each frame instead (integers in 0..T) */
    t?: number[];
    /** seed of ε (default 4321); one ε per example for every frame, so the frames show the same points dissolving */
    seed?: number;
  }

  interface NearestNeighboursResult {
    /** mean pixel-L2 distance of the samples to their closest training image */
    meanDistance: number;
    /** the same for test images (the baseline a model that does not copy should reach) */
    testBaseline: number;
    /** meanDistance / testBaseline: far below 1 = the samples copy training images */
    ratio: number;
    /** the PNG (relative to the artifacts folder): each sample beside its nearest training image */
    path: string;
    /** each sample's distance and the index of its nearest training image */
    distances: number[];
    indices: number[];
  }

  /** one component's ellipse in the plane of two dimensions: semi-axes (major first) and the major axis' angle */
  interface Ellipse {
    mean: [number, number];
    /** the square roots of the 2 x 2 covariance's eigenvalues: the 1σ semi-axes, major first */
    axes: [number, number];
    /** the major axis' angle from the first dimension's axis, in radians (-π/2, π/2] */
    angle: number;
    weight: number;
  }

  /** Pictures that explain a model, shown as the cell's output (Plotly figures or images). */
  interface Views {
    /**
     * A 2-D model's density as a heatmap beside its (validation) data; the title gives the
     * integral of p over the grid, which is about 1 for a normalized density.
     */
    density(model: Model, data: Dataset, opts?: { size?: number }): Promise<{ integral: number; kind: string }>;
    /** A grid of lines pushed through each layer of a 2-D flow (data to latent), up to `panels` panels. */
    layers(model: Model, data: Dataset, opts?: { lines?: number; panels?: number }): Promise<{ stages: number }>;
    /** A flow's samples x = f⁻¹(T·z) with the same z at several temperatures T, behind a slider. */
    temperature(model: Model, opts?: { temperatures?: number[]; n?: number; seed?: number }): Promise<{ temperatures: number[] }>;
    /**
     * Likelihood as an out-of-distribution detector: histograms of per-example bits/dim on each
     * named split, and the AUROC of telling `positive` from `negative` (default 'test') by it.
     * Prepare the other data like the training data (same binarization, same size).
     */
    detector(model: Model, splits: Record<string, { x: Float32Array; n: number }>, opts?: { negative?: string; positive?: string; limit?: number }): Promise<{ auroc: number; meanBitsPerDim: Record<string, number> }>;
    /** Which inputs one output depends on (non-zero gradients): an image pixel (`row`, `col`) or a sequence `position`. */
    receptiveField(model: Model, opts?: { row?: number; col?: number; position?: number }): Promise<{ seen: number; of: number }>;
    /** Binary image models: the bottom halves of `n` images of `split` drawn given their top halves. */
    complete(model: Model, split: { x: Float32Array; n: number }, opts?: { n?: number; seed?: number }): Promise<{ path: string }>;
    /** Sampling drawn as it happens (pixel by pixel, or step by step), one picture refreshed in place. */
    sampleLive(model: Model, opts?: { n?: number; every?: number; seed?: number }): Promise<{ path: string; steps: number }>;
    /** Audio models (wavenet): `n` generated windows as a WAV file with a player under the cell. */
    listen(model: Model, opts?: { n?: number; seed?: number; temperature?: number }): Promise<{ path: string; seconds: number }>;
    /** Encoder–decoder models: test images (odd rows) over their reconstructions (even rows). */
    reconstructions(model: Model, split: { x: Float32Array; n: number }, opts?: { n?: number; seed?: number }): Promise<{ path: string; error: number }>;
    /** A 2-D latent space decoded on a grid; with `split`, its codes as a scatter (by class where the data has labels). */
    latentMap(model: Model, opts?: { size?: number; range?: number; split?: { x: Float32Array; n: number } }): Promise<{ path: string }>;
    /** One row per latent dimension, varied from −range to range around 0 or around the code of `split`'s example `index`. */
    traversals(model: Model, opts?: { dims?: number[]; steps?: number; range?: number; split?: { x: Float32Array; n: number }; index?: number }): Promise<{ path: string }>;
    /** Decoded codes between two test images' codes: linear and spherical (slerp) interpolation. */
    interpolate(model: Model, split: { x: Float32Array; n: number }, opts?: { pairs?: number; steps?: number; seed?: number }): Promise<{ path: string }>;
    /** VAEs: KL(q(z_j|x) ‖ N(0,1)) per latent dimension (posterior collapse), and its history during training. */
    klPerDim(model: Model, split: { x: Float32Array; n: number }): Promise<{ kl: number[]; active: number }>;
    /**
     * Sigmoid belief nets: the variance of the score-function estimate of the recognition gradient on one batch
     * of `split` (the first `batch` rows), over `draws` posterior draws, with the raw signal l = log p − log q,
     * the centred signal l − c̄, and l − C(v) − c̄ (the input-dependent baseline): a bar chart (log scale) and
     * the numbers. Each estimator is unbiased; `meanNormSq` is the squared norm of its mean.
     */
    sbnGradientVariance(
      model: Model,
      split: { x: Float32Array; n: number },
      opts?: { batch?: number; draws?: number; seed?: number },
    ): Promise<{ none: number; centred: number; baseline: number; meanNormSq: number; draws: number; batch: number }>;
    /**
     * VAE and hierarchical VAE: the mean KL of every latent unit, layer by layer (a vae has one layer),
     * the units above 0.01 nats counted as active, and each layer's KL during training.
     */
    activeUnits(model: Model, split: { x: Float32Array; n: number }): Promise<{ layers: { kl: number[]; active: number }[] }>;
    /** RBM, DBN, DBM: the weights of the first `n` hidden units as images. */
    filters(model: Model, opts?: { n?: number; layer?: number }): Promise<{ path: string; shown: number }>;
    /** GB-RBM: its learned σ per visible unit as a picture (light = large σ), with the smallest, median and largest σ. */
    sigmaMap(model: Model): Promise<{ path: string; min: number; median: number; max: number }>;
    /** Convolutional RBM: a test digit, p(h = 1 | v) of each filter's hidden map, and p(pool unit on | v) of each pooling map. */
    poolingMaps(model: Model, split: { x: Float32Array; n: number }, opts?: { index?: number; maps?: number }): Promise<{ path: string; sparsity: number; poolOn: number }>;
    /** The sampling chain (Gibbs for rbm, dbn, dbm, boltzmann; corrupt–denoise for dae) as frames: one row per chain. */
    chain(model: Model, opts?: { n?: number; steps?: number; every?: number; seed?: number }): Promise<{ path: string; frames: number }>;
    /** EBM: histograms of E(x) for test images, uniform noise and the model's samples (Langevin from noise), with their means. */
    energyHistogram(model: Model, split: { x: Float32Array; n: number }, opts?: { n?: number; seed?: number }): Promise<{ data: number; noise: number; samples: number }>;
    /** Inpainting: half of each test image clamped, the rest filled in by Gibbs sampling; clamped pixels never change. */
    inpaint(model: Model, split: { x: Float32Array; n: number }, opts?: { n?: number; half?: 'top' | 'bottom' | 'left' | 'right'; steps?: number; seed?: number }): Promise<{ path: string; clampedChanged: number }>;
    /** Hopfield: each pattern, a copy with `flip` of its units flipped, and the recall as frames. */
    recall(net: Hopfield, patterns: ArrayLike<number>[] | { x: Float32Array; n: number }, opts?: { flip?: number; seed?: number; shape?: [number, number]; n?: number; /** most sweeps per recall (default 100) */ steps?: number }): Promise<{ path: string; recalled: number; of: number }>;
    /** Hopfield capacity: the fraction of random patterns recalled against patterns / N, with the 0.138 N line. */
    capacity(opts?: { units?: number; counts?: number[]; flip?: number; trials?: number; seed?: number }): Promise<{ counts: number[]; recalled: number[]; exact: number[] }>;
    /** Boltzmann machines: the exact p(v) beside the data's empirical distribution, with KL(data ‖ model). */
    distribution(model: Model, split: { x: Float32Array; n: number }, opts?: { top?: number }): Promise<{ kl: number; states: number; onData: number }>;
    /** Conditional models (cvae): one row per class, the same `n` latent codes in every row. */
    classes(model: Model, opts?: { n?: number; seed?: number }): Promise<{ path: string; classes: number }>;
    /** GMM on 2-D data: each component's 1σ and 2σ ellipses and mean over the data (`dims` picks two of D). */
    gmmEllipses(model: Model, data: Dataset, opts?: { n?: number; dims?: [number, number]; split?: 'train' | 'val' | 'test' }): Promise<{ components: number; ellipses: Ellipse[]; logLik: number }>;
    /** The four covariance types fitted to data.train side by side, each with its log-likelihood and BIC. */
    gmmCovariances(data: Dataset, opts?: { k?: number; seed?: number; iters?: number; restarts?: number; n?: number; types?: GmmCovariance[] }): Promise<{ covariance: GmmCovariance[]; logLik: number[]; bic: number[]; params: number[]; best: GmmCovariance }>;
    /** BIC against K, from lab.models.gmm.select. */
    gmmBic(selection: GmmSelection): Promise<{ k: number; ks: number[]; bic: number[] }>;
    /** Naive Bayes: a row per class, p(x_i = 1 | y) then `n` samples. */
    naiveBayesClasses(model: Model, opts?: { n?: number; seed?: number }): Promise<{ path: string; classes: number }>;
    /** PCA: explained variance; the mean and principal axes as images (path null for non-image data). */
    pcaComponents(model: Model, opts?: { n?: number }): Promise<{ path: string | null; cumulative: number[]; sigma2: number }>;
    /**
     * Each of `n` samples (default 16) beside its closest training image (pixel L2); the mean distance against the
     * test images' own (ratio far below 1 = memorisation). Images only.
     */
    nearestNeighbours(model: Model, data: Dataset, opts?: { n?: number; seed?: number }): Promise<NearestNeighboursResult>;
    /**
     * Adversarial models on 2-D points (GAN Lab): data and generated points over D's output as a heatmap, G's gradient as
     * arrows; then one D or G update per animation frame (slider + play/pause). `updates`: a 'd'/'g' string or list
     * (default 'dgdgdgdg', at most 100); lr 1e-3 (a fresh Adam per player); batchSize 256; seed 1; n 300 points (the same
     * codes every frame); arrows 40; size 40 cells per side; keep false (the model is put back as it was).
     */
    ganLab(model: Model, data: Dataset, opts?: GanLabOptions): Promise<GanLabResult>;
    /** Histograms of D(x) on validation and generated examples, for every adversarial model; accuracy at 0.5 (probabilities) or 0 (scores). */
    discriminatorHistogram(model: Model, data: Dataset, opts?: { n?: number; seed?: number; threshold?: number }): Promise<{ meanReal: number; meanFake: number; accuracy: number; threshold: number; n: number; criticKind: 'probability' | 'score' }>;
    /** 8/25 Gaussians: samples per mode as bars, "k of K modes covered" and the fraction within 3σ of a mode, for any model that samples. */
    modeCoverage(model: Model, data: Dataset, opts?: { n?: number; seed?: number }): Promise<{ covered: number; of: number; highQuality: number; counts: number[]; meanDist: number }>;
    /** DDPM: the reverse chain x_T → x_0 as frames (2-D: an animation over t with the data behind; images: one row per sample, one column per t). */
    reverseProcess(model: Model, opts?: ReverseProcessOptions): Promise<ProcessFrames>;
    /** DDPM: q(x_t | x_0) at several t, the data dissolving into noise. */
    forwardProcess(data: Dataset | Split, model: Model, opts?: ForwardProcessOptions): Promise<ProcessFrames>;
    /**
     * Score model on 2-D points: the learned score s_θ(x, σ) as arrows over the plane at a few noise levels, beside the analytic
     * score of the data's Gaussian mixture blurred by N(0, σ²) when the data has known modes (8/25 Gaussians), with their
     * relative error.
     */
    scoreField(model: Model, opts?: ScoreFieldOptions): Promise<ScoreFieldResult>;
    /** Score model: annealed Langevin chains from N(0, σ_1²) (2-D: paths over the data, coloured by level; images: one row per chain, one column per level). */
    langevinPaths(model: Model, opts?: LangevinPathsOptions): Promise<LangevinPathsResult>;
    /**
     * Flow matching: trajectories of the ODE dx/dt = v_θ from base draws at t = 0 to samples at t = 1 (2-D: lines over the
     * data, with their straightness); `n` paths (default 300), `steps` solver steps (default the model's), `data` drawn behind.
     */
    odeTrajectories(model: Model, opts?: { data?: Dataset; n?: number; steps?: number; seed?: number }): Promise<TrajectoriesResult>;
    /** Flow matching: the velocity field v_θ(x, t) as arrows on a grid at a few times `t` (default [0, 0.5, 0.9]), 2-D models. */
    velocityField(model: Model, opts?: { t?: number[]; data?: Dataset; grid?: number }): Promise<VelocityFieldResult>;
  }

  interface Lab {
    /** Datasets: MNIST, Fashion-MNIST, 2-D toy distributions, audio, text. */
    readonly data: DataApi;
    /** Model families. */
    readonly models: ModelsApi;
    /**
     * Train `model` on `data`. Streams metrics, sample grids and checkpoints to the
     * tracker while it runs; resolves with the finished run. Interrupting the cell stops
     * the run ('stopped') and rejects with an error named 'Interrupted'; a NaN/Inf loss
     * fails the run.
     * @example
     * const run = await lab.train(lab.models.vae(), lab.data.mnist(), { steps: 2000 });
     */
    train(model: Model, data: Dataset, opts?: TrainOptions): Promise<Run>;
    /**
     * The model's negative log-likelihood on a split (e.g. data.test), in nats and bits/dim,
     * with its kind; recorded as test/nll and test/bits_per_dim on the run that trained it.
     * A model without a likelihood gets sample metrics instead (kind 'sample'): FID, KID,
     * precision/recall and class coverage on MNIST / Fashion-MNIST (the pinned classifier's
     * features), MMD on 2-D and tabular data; `{ samples: n }` adds them beside a likelihood.
     * @example
     * const test = lab.evaluate(model, data.test); // { nll_nats, bits_per_dim, kind: 'exact', ... }
     * const gan = lab.evaluate(gan, data.test);    // { kind: 'sample', fid, kid, precision, recall, ... }
     */
    evaluate(model: Model, split: Split, opts: EvaluateOptions & { likelihood: false }): Promise<SampleEvaluation>;
    evaluate(model: LikelihoodModel, split: Split, opts?: EvaluateOptions): Promise<LikelihoodEvaluation>;
    evaluate(model: SampleModel, split: Split, opts?: EvaluateOptions): Promise<SampleEvaluation>;
    evaluate(model: Model, split: Split, opts?: EvaluateOptions): Promise<Evaluation>;
    /**
     * Run `fn` once per config of `spec`, in order, and group the runs it trains as one
     * sweep: the cell shows a Compare button, and the compare view adds a
     * parallel-coordinates plot of the settings against a metric. Runs are named
     * after their settings unless `lab.train` gets a `name`.
     * @example
     * await lab.sweep({ grid: { latentDim: [4, 16], lr: [1e-3, 3e-4] } }, (p) =>
     *   lab.train(lab.models.vae({ latentDim: p.latentDim }), lab.data.mnist(), { lr: p.lr, steps: 1000 }));
     */
    sweep(spec: SweepSpec, fn: (params: SweepParams, index: number) => unknown, opts?: { name?: string }): Promise<SweepResult>;
    /** Show a value under the cell: text, pretty JSON, an image handle or a run's live view. */
    show(x: unknown, caption?: string): void;
    /**
     * Show a Plotly figure under the cell (saved in the notebook as Jupyter's plotly output).
     * @example
     * lab.plot([{ x: [1, 2, 3], y: [2, 1, 3], type: 'scatter' }], { title: { text: 'a line' } });
     */
    plot(data: Record<string, unknown>[], layout?: Record<string, unknown>, caption?: string): void;
    /** Densities, layers, temperatures, detectors, receptive fields, completions and live sampling. */
    readonly views: Views;
    /** The backend in use: 'webgpu', 'tensorflow-gpu', 'tensorflow', 'wasm' or 'cpu' (the badge and the run record also name a webgpu adapter). */
    backend(): string;
  }
}
