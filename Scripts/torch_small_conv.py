"""PyTorch side of `cnn benchmark --only 16x16,8x8,4x4,2x2`: F.conv2d forward and forward+backward GF/s
(nominal 2·N·K·C·9·H·W per pass, the same count as cnn benchmark) of ResNet-18's small-map shapes.
Usage: python3 torch_small_conv.py [THREADS]"""
import sys, time, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
def bench(f, reps=5):
    f(); f(); t = time.perf_counter(); f(); once = time.perf_counter() - t
    n = max(1, int(0.5 / max(once, 1e-9))); out = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n): f()
        out.append((time.perf_counter() - t) / n)
    return sorted(out)[reps // 2]
for (c, s) in [(128, 16), (64, 8), (256, 4), (512, 2)]:
    x = torch.randn(128, c, s, s, requires_grad=True); w = torch.randn(c, c, 3, 3, requires_grad=True)
    flops = 2 * 128 * c * c * 9 * s * s
    fwd = bench(lambda: F.conv2d(x, w, padding=1))
    def fb():
        y = F.conv2d(x, w, padding=1); y.backward(torch.ones_like(y))
    both = bench(fb)
    print(f"torch N128 C{c}->{c} {s}x{s}: forward {flops/fwd/1e9:.1f} GF/s, forward+backward {3*flops/both/1e9:.1f} GF/s")
