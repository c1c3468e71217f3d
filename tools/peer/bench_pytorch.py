"""The peer side of `deno task bench:train --peer`: PyTorch (CPU) training and inference speed on
the same architectures as ours, read as this project's graph IR (lib/nn/graph.ts) from stdin, so
both sides run the same layers (convolution + batch-norm + ReLU, pooling, residual adds, dense).

Input (stdin, JSON): {"threads": N, "batch": B, "steps": S, "inferBatch": I,
                      "models": {"name": {"name": ..., "ops": [...]}}}
Output (stdout, JSON): {"torch": version, "threads": N, "models": {"name": {"train_img_s", "infer_img_s"}}}

Training: SGD with momentum 0.9 and weight decay 5e-4 on random inputs and labels (speed does not
depend on pixel values), median of three timed chunks after warm-up steps, as ours.
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(size / stride) outputs, the extra padding after (as lib/nn)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphNet(nn.Module):
    """Runs one graph of ops in order (NCHW), with layers created from the ops' shapes."""

    def __init__(self, graph: dict):
        super().__init__()
        self.ops = graph["ops"]
        self.layers = nn.ModuleDict()
        shapes: dict[str, tuple[int, int, int]] = {}  # id -> (C, H, W)
        for op in self.ops:
            kind, oid = op["kind"], op["id"]
            if kind == "input":
                h, w, c = op["shape"]
                shapes[oid] = (c, h, w)
                continue
            c, h, w = shapes[op["inputs"][0]]
            if kind == "conv":
                k, s = op["kernel"], op["stride"]
                self.layers[oid] = nn.Conv2d(c, op["filters"], k, s, bias=op["useBias"])
                if op["padding"] == "same":
                    pads = (same_padding(h, k, s), same_padding(w, k, s))
                    h, w = -(-h // s), -(-w // s)
                else:
                    pads = ((0, 0), (0, 0))
                    h, w = (h - k) // s + 1, (w - k) // s + 1
                op["_pad"] = (pads[1][0], pads[1][1], pads[0][0], pads[0][1])
                shapes[oid] = (op["filters"], h, w)
            elif kind == "batchnorm":
                self.layers[oid] = nn.BatchNorm2d(c)
                shapes[oid] = (c, h, w)
            elif kind in ("activation", "add"):
                shapes[oid] = (c, h, w)
            elif kind == "avgpool":
                shapes[oid] = (c, h // op["size"], w // op["size"])
            elif kind == "globalavgpool":
                shapes[oid] = (c, 1, 1)
            elif kind == "flatten":
                shapes[oid] = (c * h * w, 1, 1)
            elif kind == "dense":
                self.layers[oid] = nn.Linear(c * h * w, op["units"])
                shapes[oid] = (op["units"], 1, 1)
            else:
                raise ValueError(f"unknown op kind {kind}")

    def forward(self, x):
        values = {}
        for op in self.ops:
            kind, oid = op["kind"], op["id"]
            if kind == "input":
                values[oid] = x
                continue
            a = values[op["inputs"][0]]
            if kind == "conv":
                pad = op["_pad"]
                if any(pad):
                    if pad[0] == pad[1] == pad[2] == pad[3]:
                        y = F.conv2d(a, self.layers[oid].weight, self.layers[oid].bias,
                                     self.layers[oid].stride, pad[0])
                    else:
                        y = self.layers[oid](F.pad(a, pad))
                else:
                    y = self.layers[oid](a)
            elif kind == "batchnorm":
                y = self.layers[oid](a)
            elif kind == "activation":
                y = F.relu(a)
            elif kind == "avgpool":
                y = F.avg_pool2d(a, op["size"])
            elif kind == "globalavgpool":
                y = F.adaptive_avg_pool2d(a, 1)
            elif kind == "flatten":
                y = torch.flatten(a, 1)
            elif kind == "dense":
                y = self.layers[oid](torch.flatten(a, 1))
            elif kind == "add":
                y = a + values[op["inputs"][1]]
            values[oid] = y
        return values[self.ops[-1]["id"]].flatten(1)


def median_rate(run, chunks: int, images_per_chunk: int) -> float:
    rates = []
    for _ in range(chunks):
        t0 = time.perf_counter()
        run()
        rates.append(images_per_chunk / (time.perf_counter() - t0))
    return statistics.median(rates)


def bench(graph: dict, batch: int, steps: int, infer_batch: int) -> dict:
    net = GraphNet(graph)
    h, w, c = graph["ops"][0]["shape"]
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def train(n: int):
        net.train()
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), y).backward()
            opt.step()

    train(3)  # warm-up
    per_chunk = max(1, steps // 3)
    train_rate = median_rate(lambda: train(per_chunk), 3, per_chunk * batch)
    xi = torch.randn(infer_batch, c, h, w)

    def infer():
        net.eval()
        with torch.no_grad():
            net(xi)

    infer()
    infer_rate = median_rate(infer, 3, infer_batch)
    return {"train_img_s": round(train_rate, 1), "infer_img_s": round(infer_rate, 1)}


def main() -> None:
    spec = json.load(sys.stdin)
    torch.set_num_threads(spec["threads"])
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "models": {
            name: bench(graph, spec["batch"], spec["steps"], spec["inferBatch"])
            for name, graph in spec["models"].items()
        },
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
