"""Expected outputs of ONNX backend node cases, decoded by ONNX's own Python reader (numpy_helper).

An independent check of tend's TensorProto reader: the conformance test compares what tend decodes
from each output_N.pb with what this script prints. Reads case names (one per line) on stdin and the
data directory as argv[1]; prints one JSON object: {case: [{"datatype", "shape", "values"}, ...]}.
Integers of 64 bits are printed as strings (JSON numbers lose precision past 2^53); NaN and the
infinities as the strings "NaN", "Infinity", "-Infinity"; strings as UTF-8 text.
Run with /usr/bin/python3 (Debian's python3-onnx).
"""
import glob
import json
import math
import os
import sys

import numpy as np
from onnx import TensorProto, numpy_helper

DATATYPES = {
    np.dtype('float32'): 'FP32', np.dtype('float64'): 'FP64', np.dtype('float16'): 'FP16',
    np.dtype('int8'): 'INT8', np.dtype('int16'): 'INT16', np.dtype('int32'): 'INT32', np.dtype('int64'): 'INT64',
    np.dtype('uint8'): 'UINT8', np.dtype('uint16'): 'UINT16', np.dtype('uint32'): 'UINT32', np.dtype('uint64'): 'UINT64',
    np.dtype('bool'): 'BOOL',
}


def value(x, datatype):
    if datatype in ('FP32', 'FP64', 'FP16'):
        f = float(x)
        if math.isnan(f):
            return 'NaN'
        if math.isinf(f):
            return 'Infinity' if f > 0 else '-Infinity'
        return f
    if datatype in ('INT64', 'UINT64'):
        return str(int(x))
    if datatype == 'BOOL':
        return bool(x)
    if datatype == 'BYTES':
        return x.decode('utf-8', errors='replace') if isinstance(x, bytes) else str(x)
    return int(x)


def decode(path):
    proto = TensorProto()
    with open(path, 'rb') as f:
        proto.ParseFromString(f.read())
    array = numpy_helper.to_array(proto)
    datatype = 'BYTES' if array.dtype == np.dtype('O') else DATATYPES.get(array.dtype)
    if datatype is None:
        return {'datatype': str(array.dtype), 'shape': list(array.shape), 'values': None}
    return {'datatype': datatype, 'shape': [int(d) for d in array.shape], 'values': [value(x, datatype) for x in array.reshape(-1).tolist()]}


def main():
    data_dir = sys.argv[1]
    out = {}
    for name in (line.strip() for line in sys.stdin):
        if not name:
            continue
        files = sorted(glob.glob(os.path.join(data_dir, name, 'test_data_set_0', 'output_*.pb')), key=lambda p: int(p.rsplit('_', 1)[1].split('.')[0]))
        out[name] = [decode(p) for p in files]
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
