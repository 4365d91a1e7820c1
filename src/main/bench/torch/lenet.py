"""The PyTorch side of `npm run bench -- --vs-torch`: Caffe's MNIST LeNet trained, run and
differentiated by PyTorch on this machine, on the same MNIST images the lab uses (written by the
bench as raw uint8 files), with the same batch sizes and the same solver settings as the lab's
`fool train lenet` recipe. Prints one JSON object on stdout; progress goes to stderr.

Usage: python3 lenet.py DATA_DIR THREADS EPOCHS SECONDS_PER_RATE [TRAIN_LIMIT]
With TRAIN_LIMIT, each epoch trains on that many images and its time is scaled to 60,000.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    # examples/mnist/lenet.prototxt: conv 20@5x5, max 2/2, conv 50@5x5, max 2/2, ip 500, relu, ip 10.
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.ip1 = nn.Linear(800, 500)
        self.ip2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2, 2)
        x = F.max_pool2d(self.conv2(x), 2, 2)
        x = F.relu(self.ip1(x.flatten(1)))
        return self.ip2(x)


def blas_library():
    """Which BLAS this process mapped: the figures mean little with Debian's reference BLAS."""
    try:
        with open('/proc/self/maps') as f:
            names = {line.split()[-1].rsplit('/', 1)[-1] for line in f if 'blas' in line}
        return ', '.join(sorted(names)) or 'none mapped'
    except OSError:
        return 'unknown'


def load(data_dir, name, n_pixels):
    raw = open(os.path.join(data_dir, name), 'rb').read()
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, 1, 28, 28).float() * 0.00390625 if n_pixels else \
        torch.frombuffer(bytearray(raw), dtype=torch.uint8).long()


def rate(fn, seconds):
    """Calls per second of fn: warm-up, then median of five windows of seconds/5 each."""
    for _ in range(3):
        fn()
    windows = []
    for _ in range(5):
        calls, t0 = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            dt = time.perf_counter() - t0
            if dt >= seconds / 5:
                break
        windows.append(calls / dt)
    return statistics.median(windows)


def main():
    data_dir, threads, epochs, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train = load(data_dir, 'train-images.u8', True)
    y_train = load(data_dir, 'train-labels.u8', False)
    x_test = load(data_dir, 'test-images.u8', True)
    y_test = load(data_dir, 'test-labels.u8', False)

    model = LeNet()
    # lenet_solver.prototxt: lr 0.01, momentum 0.9, weight_decay 5e-4, "inv" policy (gamma 1e-4,
    # power 0.75), biases at lr_mult 2.
    weights = [p for n, p in model.named_parameters() if n.endswith('weight')]
    biases = [p for n, p in model.named_parameters() if n.endswith('bias')]
    opt = torch.optim.SGD([{'params': weights, 'lr': 0.01}, {'params': biases, 'lr': 0.02}], lr=0.01, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: (1 + 1e-4 * it) ** -0.75)
    batch = 64
    full = x_train.shape[0]
    n = min(limit, full) if limit > 0 else full
    epoch_seconds = []
    for epoch in range(epochs):
        order = torch.randperm(n)
        t0 = time.perf_counter()
        model.train()
        for b in range(n // batch):
            idx = order[b * batch:(b + 1) * batch]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        epoch_seconds.append((time.perf_counter() - t0) * full / n)
        print(f'  pytorch epoch {epoch + 1}: {epoch_seconds[-1]:.1f} s', file=sys.stderr)
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()

    x128 = x_test[:128].clone()
    with torch.no_grad():
        inference = {str(b): rate(lambda b=b: model(x_test[:b]), seconds) * b for b in (1, 128)}

    # Input gradient of the log-probability of a target class per image (the lab's ascent objective).
    target = torch.arange(128) % 10

    def gradient():
        x = x128.clone().requires_grad_(True)
        lp = F.log_softmax(model(x), dim=1)
        lp.gather(1, target[:, None]).sum().backward()
        return x.grad

    for p in model.parameters():
        p.requires_grad_(False)
    gradient128 = rate(gradient, seconds) * 128
    print(json.dumps({
        'torch': torch.__version__,
        'blas': blas_library(),
        'threads': threads,
        'trainEpochSeconds': statistics.median(epoch_seconds),
        'epochSeconds': epoch_seconds,
        'trainImages': n,
        'testAccuracy': accuracy,
        'inference1': inference['1'],
        'inference128': inference['128'],
        'gradient128': gradient128,
    }))


if __name__ == '__main__':
    main()
