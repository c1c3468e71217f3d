/**
 * Two-party secure inference (Delphi's protocol, with SAFENet's channel-wise mixed
 * activations): the client holds an image, the server a network; the client learns the
 * logits, the server nothing.
 *
 * ```ts
 * // server (prepareNetwork is in ./model.ts, kept out of this module because it loads TensorFlow.js)
 * const served = await prepareNetwork({ model: "cnn7", weights: "data/pretrained/cnn7", plan });
 * const server = await InferenceServer.open(channel, served);
 * await server.serve();
 * // client
 * const client = await InferenceClient.open(channel, { pins: { model: "cnn7" } });
 * const { logits, predicted } = await client.infer(normalisedImage);
 * client.close(); // frees its HE keys
 * ```
 *
 * Per layer: linear layers by HE offline and plaintext online (lib/mpc/he), ReLU channels by a
 * garbled circuit that also truncates and re-shares (lib/mpc/gc), polynomial channels by
 * HE-generated correlations (lib/mpc/poly), degree-0 channels as constants; pooling, flatten,
 * batch-norm (folded) and residual adds are local. Every offline step runs before the online
 * phase; `channel.stats()` has time and bytes per layer and phase. The fixed-point reference
 * that the secure result must equal is `referenceForward` in lib/mpc/quantize.ts.
 *
 * @module
 */

export { type ClientOptions, InferenceClient, type InferenceResult } from "./client.ts";
export { InferenceServer, type ServedNetwork, type ServerOptions } from "./server.ts";
export {
  acceptSession,
  checkPublicNetwork,
  offerSession,
  planHash,
  type PublicNetwork,
  publicNetwork,
  type SessionOffer,
  type SessionPins,
  type SiteLayout,
  siteLayout,
} from "./public.ts";
export {
  DEFAULT_ACTIVATION_BOUND,
  type InferenceStatisticalDistance,
  inferenceStatisticalDistance,
} from "./security.ts";
export {
  type InferenceChannel,
  INPUT_KIND,
  OUTPUT_KIND,
  type ProgressHooks,
  SETUP_SECTION,
} from "./steps.ts";
