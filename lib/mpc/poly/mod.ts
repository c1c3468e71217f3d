/**
 * Polynomial activations on secret shares (degree 0-3, one online round trip, private
 * per-element coefficients): the public API. See protocol.ts for the protocol and layout.ts
 * for the fixed-point layout and its error bounds.
 *
 * @module
 */

export * from "./layout.ts";
export * from "./protocol.ts";
export * from "./ring.ts";
