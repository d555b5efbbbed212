"""Quality twins: a notebook's binary-image model, trained again in PyTorch.

`npm run check:quality` calls this once per family after the notebook has run: it
passes the run's recorded settings (model config and training options, as
`latentlab runs --json` reports them) and a folder of the very same splits
(`latentlab export data`). The twin builds the same architecture, trains it for the
same steps with the same batch size, optimizer, learning rate, schedule and weight
decay, and evaluates the test split with the same kind of number (exact for the
autoregressive models, the IWAE bound for the VAE, an AIS estimate for the RBM).
Its initialization and batch order are its own (seeded by the run's seed), so the two
numbers differ by training noise as well as by any real difference.

Prints one JSON object: {family, nll_nats, kind, stderr?, steps, train_seconds,
eval_seconds, torch} or {family, skipped: reason}. Run it with Debian's
/usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

D = 784


# ---------------------------------------------------------------- helpers

def uniform_(t, limit, gen):
    with torch.no_grad():
        t.copy_((torch.rand(t.shape, generator=gen) * 2 - 1) * limit)
    return t


def glorot(fan_in, fan_out):
    return math.sqrt(6 / (fan_in + fan_out))


def bernoulli_nll(logits, x):
    """-log p(x) per row for factorial Bernoulli logits"""
    return (F.softplus(logits) - x * logits).sum(1)


def lr_at(train, step):
    """the engine's schedules (src/engine/train/schedules.ts): constant, step, cosine, exponential, with linear warm-up"""
    base = train["lr"]
    total = train["steps"]
    s = train.get("schedule") or {"type": "constant"}
    if isinstance(s, str):
        s = {"type": s}
    warmup = s.get("warmup") or 0
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    t = s["type"]
    if t == "constant":
        return base * warm
    if t == "step":
        size = max(1, s.get("stepSize") or math.ceil(total / 3))
        return base * warm * (s.get("gamma", 0.1) ** (step // size))
    if t == "cosine":
        min_lr = s.get("minLr", 0)
        p = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
        return warm * (min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * p)))
    if t == "exponential":
        return base * warm * (s.get("gamma", 0.1) ** (step / max(1, s.get("decaySteps") or total)))
    raise ValueError(f"unknown schedule {t}")


def make_optimizer(params, train):
    """Adam with decoupled weight decay (the engine multiplies weights by 1 - lr*wd), its epsilon 1e-7, or SGD"""
    wd = train.get("weightDecay") or 0
    if train.get("optimizer", "adam") == "adam":
        return torch.optim.AdamW(params, lr=train["lr"], betas=(train.get("beta1", 0.9), train.get("beta2", 0.999)), eps=1e-7, weight_decay=wd)
    if train["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=train["lr"], momentum=train.get("momentum", 0) or 0, weight_decay=wd)
    raise ValueError(f"no twin for optimizer {train['optimizer']}")


def batches(n, batch, steps, gen):
    """`steps` batches of row indices: epochs of a fresh permutation each"""
    perm, at = torch.randperm(n, generator=gen), 0
    for _ in range(steps):
        if at + batch > n:
            perm, at = torch.randperm(n, generator=gen), 0
        yield perm[at:at + batch]
        at += batch


# ---------------------------------------------------------------- autoregressive

class Fvsbn(nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.W = nn.Parameter(uniform_(torch.empty(D, D), 0.01, gen))
        self.b = nn.Parameter(torch.zeros(D))
        self.register_buffer("mask", torch.triu(torch.ones(D, D), 1))  # M[j, i] = 1 when j < i

    def nll(self, x):
        return bernoulli_nll(x @ (self.W * self.mask) + self.b, x)


class Nade(nn.Module):
    def __init__(self, cfg, gen):
        super().__init__()
        H = cfg.get("hidden", 100)
        self.W = nn.Parameter(uniform_(torch.empty(D, H), glorot(D, H), gen))
        self.c = nn.Parameter(torch.zeros(H))
        self.V = nn.Parameter(uniform_(torch.empty(D, H), glorot(D, H), gen))
        self.b = nn.Parameter(torch.zeros(D))

    def nll(self, x):
        # pre-activation of position i: c + sum_{j<i} x_j W_j, as an exclusive cumulative sum over positions
        contrib = x.unsqueeze(2) * self.W.unsqueeze(0)  # [B, D, H]
        pre = torch.cumsum(contrib, 1) - contrib + self.c
        logits = (torch.sigmoid(pre) * self.V.unsqueeze(0)).sum(2) + self.b
        return bernoulli_nll(logits, x)


def made_masks(hidden, gen, shuffle):
    order = torch.randperm(D, generator=gen) if shuffle else torch.arange(D)
    m0 = torch.empty(D, dtype=torch.long)
    m0[order] = torch.arange(1, D + 1)
    ms = [m0]
    for H in hidden:
        lo = min(D - 1, max(1, int(ms[-1].min())))
        u = torch.rand(H, generator=gen)
        ms.append(lo + torch.floor((torch.arange(H) + u) * (D - lo) / H).long())
    layers = [(ms[l].unsqueeze(0) >= ms[l - 1].unsqueeze(1)).float() for l in range(1, len(ms))]
    layers.append((m0.unsqueeze(0) > ms[-1].unsqueeze(1)).float())
    return layers


class Made(nn.Module):
    def __init__(self, cfg, gen):
        super().__init__()
        hidden = cfg.get("hidden", [500])
        self.K = cfg.get("masks", 1)
        sizes = [D, *hidden, D]
        self.Ws = nn.ParameterList(nn.Parameter(uniform_(torch.empty(a, b), glorot(a, b), gen)) for a, b in zip(sizes, sizes[1:]))
        self.bs = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in sizes[1:])
        # the first set keeps the natural order; later ones resample order and connectivity
        self.masks = [made_masks(hidden, gen, k > 0 and cfg.get("resampleOrder", True)) for k in range(self.K)]
        self.current = 0

    def logits_with(self, x, k):
        h = x
        for l, (W, b, m) in enumerate(zip(self.Ws, self.bs, self.masks[k])):
            h = h @ (W * m) + b
            if l + 1 < len(self.Ws):
                h = F.relu(h)
        return h

    def nll(self, x):
        if self.training or self.K == 1:
            return bernoulli_nll(self.logits_with(x, self.current if self.training else 0), x)
        logps = torch.stack([-bernoulli_nll(self.logits_with(x, k), x) for k in range(self.K)], 1)
        return -(torch.logsumexp(logps, 1) - math.log(self.K))

    def before_step(self, step):
        self.current = step % self.K


class MaskedConv(nn.Conv2d):
    def __init__(self, cin, cout, k, kind, gen):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.ones(cout, cin, k, k)
        if kind is not None:
            c = k // 2
            mask[:, :, c, c + (1 if kind == "B" else 0):] = 0
            mask[:, :, c + 1:] = 0
        self.register_buffer("mask", mask)
        fan_in, fan_out = cin * k * k, cout * k * k
        uniform_(self.weight, glorot(fan_in, fan_out), gen)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCnn(nn.Module):
    def __init__(self, cfg, gen):
        super().__init__()
        Fn, L = cfg.get("filters", 32), cfg.get("layers", 4)
        convs = [MaskedConv(1, Fn, cfg.get("firstKernel", 7), "A", gen)]
        convs += [MaskedConv(Fn, Fn, 3, "B", gen) for _ in range(L)]
        convs += [MaskedConv(Fn, Fn, 1, None, gen), MaskedConv(Fn, 1, 1, None, gen)]
        self.convs = nn.ModuleList(convs)

    def nll(self, x):
        h = x.view(-1, 1, 28, 28)
        for l, c in enumerate(self.convs):
            if l > 0:
                h = F.relu(h)
            h = c(h)
        return bernoulli_nll(h.reshape(-1, D), x)


# ---------------------------------------------------------------- VAE (MLP nets)

class Mlp(nn.Module):
    def __init__(self, sizes, gen):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        for l in self.layers:
            uniform_(l.weight, glorot(l.in_features, l.out_features), gen)
            nn.init.zeros_(l.bias)

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x


class Vae(nn.Module):
    def __init__(self, cfg, gen):
        super().__init__()
        if cfg.get("net", "mlp") != "mlp":
            raise NotImplementedError("the twin has the MLP VAE only")
        if cfg.get("objective", "elbo") != "elbo" or cfg.get("k", 1) != 1:
            raise NotImplementedError("the twin trains the ELBO with k = 1 only")
        hidden, self.L = cfg.get("hidden", [512, 256]), cfg.get("latentDim", 16)
        self.beta = cfg.get("beta", 1)
        self.enc = Mlp([D, *hidden, 2 * self.L], gen)
        self.dec = Mlp([self.L, *reversed(hidden), D], gen)
        self.eval_k = cfg.get("evalK", 500)

    def nll(self, x):
        mu, logvar = self.enc(x).chunk(2, 1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        kl = 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(1)
        return bernoulli_nll(self.dec(z), x) + self.beta * kl

    @torch.no_grad()
    def iwae(self, x, k):
        """-log (1/k) sum_i p(x, z_i) / q(z_i | x) per row"""
        mu, logvar = self.enc(x).chunk(2, 1)
        std = torch.exp(0.5 * logvar)
        out = []
        for r in range(x.shape[0]):
            eps = torch.randn(k, self.L)
            z = mu[r] + std[r] * eps
            log_q = (-0.5 * (eps * eps + math.log(2 * math.pi)) - 0.5 * logvar[r]).sum(1)
            log_prior = (-0.5 * (z * z + math.log(2 * math.pi))).sum(1)
            log_px = -bernoulli_nll(self.dec(z), x[r].expand(k, D))
            out.append(-(torch.logsumexp(log_px + log_prior - log_q, 0) - math.log(k)))
        return torch.stack(out)


# ---------------------------------------------------------------- RBM (PCD, AIS)

class Rbm(nn.Module):
    def __init__(self, cfg, gen):
        super().__init__()
        if cfg.get("visible") not in (None, "bernoulli"):
            raise NotImplementedError("the twin has Bernoulli visible units only")
        H = cfg.get("hidden", 500)
        self.k, self.persistent = cfg.get("k", 1), cfg.get("persistent", False)
        self.W = nn.Parameter(torch.randn(D, H, generator=gen) * cfg.get("initScale", 0.01))
        self.b = nn.Parameter(torch.zeros(D))
        self.c = nn.Parameter(torch.zeros(H))
        self.ais = cfg.get("ais") or {"chains": 100, "betas": 2000}
        self.chains = None
        self.base_mean = None
        self.seen = 0
        self.gen = gen

    def free_energy(self, v):
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def observe(self, x):
        """the first batch's pixel means set the visible biases; a running mean of them is the AIS base"""
        m = x.mean(0)
        if self.base_mean is None:
            p = m.clamp(1e-3, 1 - 1e-3)
            with torch.no_grad():
                self.b.copy_(torch.log(p / (1 - p)))
            self.base_mean, self.seen = m.clone(), 1
            return
        self.seen = min(self.seen + 1, 100)
        self.base_mean += (m - self.base_mean) / self.seen

    def loss(self, x):
        self.observe(x)
        with torch.no_grad():
            v = self.chains if self.persistent and self.chains is not None and self.chains.shape[0] == x.shape[0] else x
            for _ in range(self.k):
                h = torch.bernoulli(torch.sigmoid(v @ self.W + self.c), generator=self.gen)
                v = torch.bernoulli(torch.sigmoid(h @ self.W.t() + self.b), generator=self.gen)
            if self.persistent:
                self.chains = v
        return self.free_energy(x).mean() - self.free_energy(v).mean()

    @torch.no_grad()
    def log_z(self, chains, K, gen):
        """AIS from the base model with visible biases b_A = logit(base mean), the engine's schedule and estimator (eval/ais.ts)"""
        W, b, c = self.W.double(), self.b.double(), self.c.double()
        bA = torch.log(self.base_mean.clamp(1e-3, 1 - 1e-3) / (1 - self.base_mean.clamp(1e-3, 1 - 1e-3))).double()
        H = W.shape[1]
        k1, k2 = max(1, round(0.1 * K)), max(1, round(0.3 * K))
        betas = torch.cat([torch.linspace(0, 0.5, k1 + 1)[:-1], torch.linspace(0.5, 0.9, k2 + 1)[:-1], torch.linspace(0.9, 1, K - k1 - k2 + 1)]).double()
        x = torch.bernoulli(torch.sigmoid(bA).expand(chains, D), generator=gen)
        log_w = torch.zeros(chains, dtype=torch.float64)

        def log_pstar(x, beta):
            return (1 - beta) * (x @ bA) + beta * (x @ b) + F.softplus(beta * (x @ W + c)).sum(1)

        for k in range(1, K + 1):
            log_w += log_pstar(x, betas[k]) - log_pstar(x, betas[k - 1])
            if k < K:
                bk = betas[k]
                h = torch.bernoulli(torch.sigmoid(bk * (x @ W + c)), generator=gen)
                x = torch.bernoulli(torch.sigmoid((1 - bk) * bA + bk * (h @ W.t() + b)), generator=gen)
        log_z0 = H * math.log(2) + F.softplus(bA).sum().item()
        m = log_w.max()
        w = torch.exp(log_w - m)
        mean = w.mean()
        stderr = (w.std(unbiased=True) / (math.sqrt(chains) * mean)).item()
        ess = (w.sum() ** 2 / (w * w).sum()).item()
        return log_z0 + (m + torch.log(mean)).item(), stderr, ess

    def evaluate(self, x, gen):
        chains, K = self.ais.get("chains", 100), self.ais.get("betas", 2000)
        log_z, stderr, ess = self.log_z(chains, K, gen)
        with torch.no_grad():
            nll = self.free_energy(x) + log_z
        return nll, {"stderr": stderr, "details": {"logZ": log_z, "chains": chains, "betas": K, "ess": ess}}


# ---------------------------------------------------------------- main

TWINS = {
    "fvsbn": lambda cfg, gen: Fvsbn(gen),
    "nade": Nade,
    "made": Made,
    "pixelcnn": PixelCnn,
    "vae": Vae,
    "rbm": Rbm,
}
KINDS = {"fvsbn": "exact", "nade": "exact", "made": "exact", "pixelcnn": "exact", "vae": "bound", "rbm": "estimate"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True)
    ap.add_argument("--data", required=True, help="a folder written by `latentlab export data`")
    ap.add_argument("--run", required=True, help="a file holding the run's config JSON ({model, train, data})")
    ap.add_argument("--steps", type=int, help="train this many steps instead of the run's")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    cfg = json.load(open(a.run))
    model_cfg, train = cfg.get("model") or {}, dict(cfg["train"])
    if a.steps:
        train["steps"] = a.steps
    if a.family == "pixelcnn" and model_cfg.get("gated"):
        print(json.dumps({"family": a.family, "skipped": "no twin of the gated PixelCNN"}))
        return
    if a.family not in TWINS:
        print(json.dumps({"family": a.family, "skipped": "no PyTorch twin of this family yet"}))
        return
    seed = int(train.get("seed", 0))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    try:
        model = TWINS[a.family](model_cfg, gen)
    except NotImplementedError as e:
        print(json.dumps({"family": a.family, "skipped": str(e)}))
        return
    xtr = torch.from_numpy(np.load(os.path.join(a.data, "train_x.npy")))
    xte = torch.from_numpy(np.load(os.path.join(a.data, "test_x.npy")))
    opt = make_optimizer(model.parameters(), train)
    clip = train.get("clipNorm")
    t0 = time.time()
    model.train()
    for step, idx in enumerate(batches(xtr.shape[0], train["batchSize"], train["steps"], gen)):
        for g in opt.param_groups:
            g["lr"] = lr_at(train, step)
        if hasattr(model, "before_step"):
            model.before_step(step)
        x = xtr[idx]
        loss = model.loss(x) if hasattr(model, "loss") else model.nll(x).mean()
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    train_s = time.time() - t0
    model.eval()
    t1 = time.time()
    extra = {}
    with torch.no_grad():
        if a.family == "vae":
            nll = torch.cat([model.iwae(xte[i:i + 100], model.eval_k) for i in range(0, xte.shape[0], 100)])
            extra["details"] = {"k": model.eval_k}
        elif a.family == "rbm":
            nll, extra = model.evaluate(xte, gen)
        else:
            nll = torch.cat([model.nll(xte[i:i + 100]) for i in range(0, xte.shape[0], 100)])
    out = {"family": a.family, "nll_nats": nll.double().mean().item(), "kind": KINDS[a.family], "steps": train["steps"],
           "train_seconds": train_s, "eval_seconds": time.time() - t1, "torch": f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)"}
    if "stderr" in extra:
        out["stderr"] = extra["stderr"]
    if "details" in extra:
        out["details"] = extra["details"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
