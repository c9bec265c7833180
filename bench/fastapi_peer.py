"""The Python peer of the HTTP benchmark: the digits model served by FastAPI + PyTorch.

The network is rebuilt in PyTorch from the ONNX file's weights (standardize, Linear 64->32, ReLU,
Linear 32->10, softmax, argmax), so both servers compute the same function. The endpoint speaks
the same V2 JSON as tend: `inputs[0]` with `shape` [rows, 64] and flat `data`; it answers
`probabilities` (FP32) and `label` (INT64).

Run by bench/peer.ts as
  TEND_PEER_MODEL=model.onnx /usr/bin/python3 -m uvicorn fastapi_peer:app --app-dir bench \
      --workers 2 --loop uvloop --http httptools --no-access-log --log-level warning --port PORT
(Debian's python3-fastapi, python3-uvicorn, python3-uvloop, python3-httptools, python3-torch, python3-onnx).
"""

import os

import onnx
import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from onnx import numpy_helper

# Two workers on two cores: one intra-op thread each, as a deployment would configure them.
torch.set_num_threads(int(os.environ.get("TEND_PEER_TORCH_THREADS", "1")))


def load_digits(path):
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
    hidden = torch.nn.Linear(64, weights["layer0_weight"].shape[0])
    out = torch.nn.Linear(hidden.out_features, weights["layer1_weight"].shape[0])
    with torch.no_grad():
        hidden.weight.copy_(weights["layer0_weight"])
        hidden.bias.copy_(weights["layer0_bias"])
        out.weight.copy_(weights["layer1_weight"])
        out.bias.copy_(weights["layer1_bias"])
    mean, std = weights["feature_mean"], weights["feature_std"]

    def forward(x):
        logits = out(torch.relu(hidden((x - mean) / std)))
        probabilities = torch.softmax(logits, dim=-1)
        return probabilities, torch.argmax(probabilities, dim=1)

    return forward


model = load_digits(os.environ["TEND_PEER_MODEL"])
app = FastAPI()


@app.get("/v2/health/ready")
async def ready():
    return {"ready": True}


@app.post("/v2/models/digits/infer")
async def infer(request: Request):
    body = await request.json()
    try:
        tensor = body["inputs"][0]
        shape = [int(d) for d in tensor["shape"]]
        x = torch.tensor(tensor["data"], dtype=torch.float32).reshape(shape)
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as err:
        return JSONResponse({"error": f"bad request: {err}"}, status_code=400)
    with torch.inference_mode():
        probabilities, label = model(x)
    return {
        "model_name": "digits",
        "model_version": "1",
        "id": body.get("id", ""),
        "outputs": [
            {"name": "probabilities", "datatype": "FP32", "shape": list(probabilities.shape),
             "data": probabilities.flatten().tolist()},
            {"name": "label", "datatype": "INT64", "shape": list(label.shape), "data": label.tolist()},
        ],
    }
