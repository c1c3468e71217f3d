/**
 * Delphi's linear layers with BFV homomorphic encryption (node-seal): the public API.
 *
 * - `linearOfflineClient` / `linearOfflineServer`: the offline exchange for one layer; the
 *   client gets r * W - u, the server keeps u. `linearOnlineServer`: (x - r) * W + b + u.
 * - `plainLinear`: the same layers over F_p in the clear (server online, test reference).
 * - `affineClient` / `affineServer`: batched elementwise affine maps (polynomial correlations).
 * - `heContext` / `heKeys`: BFV parameters (N = 8192, t = p or another prime) and client keys.
 *
 * @module
 */

export * from "./affine.ts";
export * from "./answer.ts";
export * from "./layer.ts";
export * from "./linear.ts";
export * from "./packing.ts";
export * from "./plain.ts";
export * from "./seal.ts";
