import assert from "node:assert/strict";
import { Ddpg, HAQ_DDPG, internals } from "./ddpg.ts";
import { SearchRng } from "./rng.ts";

const { Actor, Critic } = internals;

/** Central-difference check of every parameter gradient of `loss`, whose backward filled `grads`. */
function checkParams(params: Float64Array[], grads: Float64Array[], loss: () => number, what: string) {
  params.forEach((p, k) => {
    for (let i = 0; i < p.length; i++) {
      const keep = p[i];
      p[i] = keep + 1e-6;
      const up = loss();
      p[i] = keep - 1e-6;
      const down = loss();
      p[i] = keep;
      const numeric = (up - down) / 2e-6;
      assert.ok(
        Math.abs(numeric - grads[k][i]) < 1e-6 * Math.max(1, Math.abs(numeric)),
        `${what} [${k}][${i}]: ${grads[k][i]} vs ${numeric}`,
      );
    }
  });
}

Deno.test("DDPG networks: backpropagation matches finite differences (actor, critic, critic's action input)", () => {
  const rng = new SearchRng(1);
  const n = 4, states = 3, actions = 2;
  const s = Float64Array.from({ length: n * states }, () => rng.normal());
  const a = Float64Array.from({ length: n * actions }, () => rng.float());
  const weights = Float64Array.from({ length: n * actions }, () => rng.normal());

  const actor = new Actor(states, actions, 5, rng);
  const actorLoss = () => actor.forward(s, n).a.reduce((x, v, i) => x + weights[i] * v, 0);
  actor.zeroGrad();
  actor.backward(s, actor.forward(s, n), weights, n);
  checkParams(actor.params(), actor.grads(), actorLoss, "actor");

  const critic = new Critic(states, actions, 5, rng);
  const qWeights = weights.subarray(0, n);
  const criticLoss = () => critic.forward(s, a, n).q.reduce((x, v, i) => x + qWeights[i] * v, 0);
  critic.zeroGrad();
  const da = critic.backward(s, a, critic.forward(s, a, n), qWeights, n, true);
  checkParams(critic.params(), critic.grads(), criticLoss, "critic");
  checkParams([a], [da], criticLoss, "critic action input");
});

Deno.test("DDPG: on a one-step bandit (reward peaks at action 0.8) the critic learns the shape, the actor climbs it", () => {
  const rng = new SearchRng(2);
  const agent = new Ddpg(1, 1, { ...HAQ_DDPG, hidden: 32, bufferSize: 256 }, rng);
  const state = Float64Array.of(1);
  const reward = (a: number) => 1 - 4 * (a - 0.8) ** 2;
  for (let i = 0; i < 300; i++) {
    const a = rng.float();
    agent.observe({ state, action: Float64Array.of(a), reward: reward(a), next: state, done: true });
  }
  assert.equal(agent.size, 256, "the buffer keeps the latest 256");
  const before = agent.act(state)[0];
  for (let i = 0; i < 600; i++) agent.update(rng);
  const after = agent.act(state)[0];
  assert.ok(reward(after) > reward(before) + 0.1, `action ${before} -> ${after}`);
  const q = (a: number) => agent.value(state, Float64Array.of(a));
  assert.ok(q(0.8) > q(0.4) && q(0.4) > q(0.1), "critic");
});
