// Which notebook made which tensors. tfjs counts every tensor and variable it makes in
// one place (engine.trackTensor) and every disposal in another (engine.disposeTensor):
// while a notebook's cell runs, the tensors made are put in that notebook's set and
// leave it when disposed. What is left in the set when the notebook's kernel restarts
// (model weights, tensors in its variables, leaks) is disposed with it.
import * as tf from '@tensorflow/tfjs';

type Tracked = Set<tf.Tensor>;

interface EngineHooks {
  trackTensor(a: tf.Tensor, backend: unknown): void;
  disposeTensor(a: tf.Tensor): void;
}

let active: Tracked | null = null;
/** every set a tensor may be in: a disposed tensor leaves whichever holds it */
const owners = new Set<Tracked>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineHooks;
  const track = engine.trackTensor.bind(engine);
  const dispose = engine.disposeTensor.bind(engine);
  engine.trackTensor = (a, backend) => {
    track(a, backend);
    active?.add(a);
  };
  engine.disposeTensor = (a) => {
    dispose(a);
    for (const s of owners) if (s.delete(a)) break;
  };
}

/** The tensors of one notebook's kernel. */
export class TensorOwner {
  private readonly tensors: Tracked = new Set();

  constructor() {
    install();
    owners.add(this.tensors);
  }

  /** tensors made from now until `end()` are this owner's (cells run one at a time) */
  begin(): void {
    active = this.tensors;
  }

  end(): void {
    if (active === this.tensors) active = null;
  }

  /** how many of its tensors are alive */
  get size(): number {
    return this.tensors.size;
  }

  /** Disposes every tensor and variable it still holds; returns how many. */
  disposeAll(): number {
    this.end();
    const all = [...this.tensors];
    this.tensors.clear();
    owners.delete(this.tensors);
    let n = 0;
    for (const t of all) {
      if (t.isDisposed) continue;
      t.dispose(); // a Variable's dispose also unregisters it
      n++;
    }
    return n;
  }
}
