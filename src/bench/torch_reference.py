"""The speed reference set in PyTorch: the twin of src/bench/reference-tf.ts.

Same shapes, same batch, same optimizer; one training step each, timed the same
way (warm-up, then at least --min-steps steps and --min-seconds seconds). Prints
one JSON object. Run with Debian's system python3 (python3-torch, with
libopenblas0-pthread so that PyTorch does not fall back to the reference BLAS).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def binary_batch(n, gen):
    return (torch.rand(n, 784, generator=gen) < 0.13).float()


def bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def kl(mu, logvar):
    return 0.5 * torch.sum(mu * mu + logvar.exp() - 1 - logvar) / mu.shape[0]


class MlpVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 32))
        self.dec = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784))

    def loss(self, x):
        mu, logvar = self.enc(x).chunk(2, 1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return bce(self.dec(z), x) + kl(mu, logvar)


class ConvVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, 2, 1)
        self.c2 = nn.Conv2d(32, 64, 3, 2, 1)
        self.fc = nn.Linear(7 * 7 * 64, 32)
        self.fd = nn.Linear(16, 7 * 7 * 64)
        self.t1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.t2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def loss(self, x):
        n = x.shape[0]
        h = F.relu(self.c2(F.relu(self.c1(x.view(n, 1, 28, 28)))))
        mu, logvar = self.fc(h.reshape(n, -1)).chunk(2, 1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        g = F.relu(self.fd(z)).view(n, 64, 7, 7)
        logits = self.t2(F.relu(self.t1(g)))
        return bce(logits.reshape(n, 784), x) + kl(mu, logvar)


class RealNvp(nn.Module):
    def __init__(self):
        super().__init__()
        idx = torch.arange(784)
        self.register_buffer("masks", torch.stack([((idx % 28 + idx // 28 + p) % 2).float() for p in (0, 1, 0, 1)]))
        self.nets = nn.ModuleList(nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 2 * 784)) for _ in range(4))

    def loss(self, x):
        h, logdet = x, torch.zeros(x.shape[0])
        for m, net in zip(self.masks, self.nets):
            xm = h * m
            s_raw, t = net(xm).chunk(2, 1)
            s = torch.tanh(s_raw) * (1 - m)
            h = xm + (1 - m) * (h * torch.exp(s) + t)
            logdet = logdet + s.sum(1)
        logpz = (-0.5 * (h * h + math.log(2 * math.pi))).sum(1)
        return -(logpz + logdet).mean()


class MaskedConv(nn.Conv2d):
    def __init__(self, ci, co, k, type_a):
        super().__init__(ci, co, k, 1, k // 2)
        mask = torch.zeros_like(self.weight)
        c = (k - 1) // 2
        mask[:, :, :c, :] = 1
        mask[:, :, c, : c + (0 if type_a else 1)] = 1
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, 1, self.padding)


class PixelCnnSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([MaskedConv(1, 32, 7, True)] + [MaskedConv(32, 32, 3, False) for _ in range(3)] + [MaskedConv(32, 1, 1, False)])

    def loss(self, x):
        n = x.shape[0]
        h = x.view(n, 1, 28, 28)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i + 1 < len(self.layers):
                h = F.relu(h)
        return bce(h.reshape(n, 784), x)


def make_stepper(name, batch, gen, dev=torch.device("cpu")):
    # data drawn on the CPU (the same numbers whatever the device), then moved
    x = binary_batch(batch, gen)
    if name == "realnvp":
        x = (x + torch.rand(x.shape, generator=gen)) / 2
    x = x.to(dev)
    if name in ("mlp-vae", "conv-vae", "realnvp", "pixelcnn-small"):
        model = {"mlp-vae": MlpVae, "conv-vae": ConvVae, "realnvp": RealNvp, "pixelcnn-small": PixelCnnSmall}[name]().to(dev)
        lr = 1e-4 if name == "realnvp" else 1e-3
        opt = torch.optim.Adam(model.parameters(), lr=lr)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = model.loss(x)
            loss.backward()
            opt.step()
            return loss.item()

        return step
    if name == "dcgan-small":
        G = nn.Sequential(nn.Linear(64, 7 * 7 * 64), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                          nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Sigmoid()).to(dev)
        D = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                          nn.Flatten(), nn.Linear(7 * 7 * 64, 1)).to(dev)
        opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        img = x.view(batch, 1, 28, 28)
        ones, zeros = torch.ones(batch, 1, device=dev), torch.zeros(batch, 1, device=dev)

        def step():
            z = torch.randn(batch, 64, device=dev)
            opt_d.zero_grad(set_to_none=True)
            dl = F.binary_cross_entropy_with_logits(D(img), ones) + F.binary_cross_entropy_with_logits(D(G(z).detach()), zeros)
            dl.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            gl = F.binary_cross_entropy_with_logits(D(G(z)), ones)
            gl.backward()
            opt_g.step()
            return dl.item() + gl.item()

        return step
    if name == "rbm-cd1":
        W = (torch.randn(784, 500, generator=gen) * 0.01).to(dev)
        b, c = torch.zeros(784, device=dev), torch.zeros(500, device=dev)
        lr = 0.05

        def step():
            nonlocal W, b, c
            ph0 = torch.sigmoid(x @ W + c)
            h0 = (torch.rand_like(ph0) < ph0).float()  # faster than torch.bernoulli here
            pv1 = torch.sigmoid(h0 @ W.t() + b)
            v1 = (torch.rand_like(pv1) < pv1).float()
            ph1 = torch.sigmoid(v1 @ W + c)
            W += lr / batch * (x.t() @ ph0 - v1.t() @ ph1)
            b += lr * (x - v1).mean(0)
            c += lr * (ph0 - ph1).mean(0)
            return ((x - pv1) ** 2).mean().item()

        return step
    raise SystemExit(f"unknown model {name}")


def timed(step, warmup, min_steps, min_seconds, max_seconds):
    for _ in range(warmup):
        step()
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        dt = time.perf_counter() - t0
        if (n >= min_steps and dt >= min_seconds) or dt >= max_seconds:
            return n, dt


def pick_device(name):
    """'auto': CUDA where PyTorch sees a GPU, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def device_name(dev):
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"


def serve(a, gen):
    """{"model": name} → {"samples_per_s", "ms_per_step", "steps"}; {"gemm": m} → {"gflops"}; first line says hello."""
    dev = pick_device(a.device)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(dev), "device_name": device_name(dev)}), flush=True)
    steppers = {}
    for line in iter(input_line, None):
        req = json.loads(line)
        try:
            if "gemm" in req:
                m = int(req["gemm"])
                A, B = torch.randn(m, m, generator=gen).to(dev), torch.randn(m, m, generator=gen).to(dev)
                # on a GPU, completion is forced by reading one element back (as the tfjs side does)
                gemm = (lambda: (A @ B)[0, 0].item()) if dev.type == "cuda" else (lambda: A @ B)
                n, dt = timed(gemm, 2, 5, req.get("min_seconds", 1.0), 10.0)
                out = {"gflops": 2 * m ** 3 * n / dt / 1e9}
            else:
                name = req["model"]
                if name not in steppers:
                    steppers[name] = make_stepper(name, a.batch, gen, dev)
                n, dt = timed(steppers[name], req.get("warmup", a.warmup), req.get("min_steps", a.min_steps),
                              req.get("min_seconds", a.min_seconds), req.get("max_seconds", a.max_seconds))
                out = {"samples_per_s": n * a.batch / dt, "ms_per_step": 1000 * dt / n, "steps": n}
        except SystemExit as e:
            out = {"error": str(e)}
        print(json.dumps(out), flush=True)


def input_line():
    try:
        return input()
    except EOFError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="mlp-vae,conv-vae,dcgan-small,realnvp,pixelcnn-small,rbm-cd1")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="0 = PyTorch's default")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-steps", type=int, default=10)
    ap.add_argument("--min-seconds", type=float, default=2.0)
    ap.add_argument("--max-seconds", type=float, default=20.0)
    ap.add_argument("--gemm", type=int, default=1024)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, or auto (cuda where there is one)")
    ap.add_argument("--serve", action="store_true", help="answer one JSON request per stdin line (the bench interleaves rounds with tfjs)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    if a.serve:
        serve(a, gen)
        return
    rows = []
    for name in a.models.split(","):
        step = make_stepper(name, a.batch, gen, pick_device(a.device))
        n, dt = timed(step, a.warmup, a.min_steps, a.min_seconds, a.max_seconds)
        rows.append({"model": name, "samples_per_s": n * a.batch / dt, "ms_per_step": 1000 * dt / n, "steps": n})
    m = a.gemm
    A, B = torch.randn(m, m, generator=gen), torch.randn(m, m, generator=gen)
    n, dt = timed(lambda: A @ B, 2, 5, 1.0, 10.0)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "rows": rows,
        "gemm_gflops": 2 * m ** 3 * n / dt / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
