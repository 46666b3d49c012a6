"""PyTorch side of `cnn benchmark --model`: training-step and inference images/s on random
images, and peak RSS. Usage: torch_model.py MODEL C H W BATCH [--threads 2] [--min-time 1]"""
import argparse, json, resource, time
import torch, torch.nn as nn, torchvision.models as tvm
ap = argparse.ArgumentParser()
ap.add_argument('model'); ap.add_argument('c', type=int); ap.add_argument('h', type=int); ap.add_argument('w', type=int)
ap.add_argument('batch', type=int); ap.add_argument('--threads', type=int, default=2); ap.add_argument('--min-time', type=float, default=1.0)
ap.add_argument('--classes', type=int, default=1000); ap.add_argument('--skip-train', action='store_true')
a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(1)
kw = {'aux_logits': False, 'init_weights': True} if a.model == 'googlenet' else {}  # CNNKit's GoogLeNet has no auxiliary heads
m = getattr(tvm, a.model.replace("-", "_"))(num_classes=a.classes, **kw)  # vgg11-bn is vgg11_bn
def per_call(f):
    f(); f(); t = time.perf_counter(); f(); once = time.perf_counter() - t
    n = max(1, int(a.min_time / max(once, 1e-9))); blocks = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n): f()
        blocks.append((time.perf_counter() - t) / n)
    return sorted(blocks)[2]
out = {'model': a.model, 'input': [a.c, a.h, a.w], 'batch': a.batch}
if not a.skip_train:
    m.train(); o = torch.optim.Adam(m.parameters(), 1e-3); lf = nn.CrossEntropyLoss()
    x = torch.randn(a.batch, a.c, a.h, a.w); y = torch.randint(0, a.classes, (a.batch,))
    def step():
        o.zero_grad(); lf(m(x), y).backward(); o.step()
    out['train_images_per_second'] = a.batch / per_call(step)
m.eval()
for b in sorted({a.batch, 1}, reverse=True):
    x = torch.randn(b, a.c, a.h, a.w)
    with torch.no_grad():
        out[f'infer_batch{b}_images_per_second'] = b / per_call(lambda: m(x))
out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
print(json.dumps(out))
