// Sample-quality views (nearest neighbours) and helpers.
import type { EngineContext } from '../context';

export function createSampleViews(_ctx: EngineContext) {
  return {};
}
