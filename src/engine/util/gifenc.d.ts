// The part of gifenc (npm, MIT) that we use: it ships no typings of its own.
declare module 'gifenc' {
  export interface GifFrameOptions {
    palette?: number[][];
    /** ms the frame is shown */
    delay?: number;
    /** 0: loop forever (only read on the first frame) */
    repeat?: number;
    transparent?: boolean;
    dispose?: number;
  }
  export interface GifEncoder {
    writeFrame(index: Uint8Array, width: number, height: number, opts?: GifFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
  }
  export function GIFEncoder(opts?: { auto?: boolean; initialCapacity?: number }): GifEncoder;
}
