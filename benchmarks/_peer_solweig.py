"""Driver run by bench_heat.py inside the peer's venv (numpy + solweig only, never jumeau).

Usage: <peer python> _peer_solweig.py TASK INPUT.npz OUTPUT.npz
Tasks: svf, shadow, hour. Prints one JSON line with the timings.
"""

import datetime
import json
import sys
import tempfile
import time

import numpy as np


def main():
    task, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
    d = np.load(inp)
    dsm = np.ascontiguousarray(d["dsm"], np.float32)
    cs = float(d["cell_size"])
    res = {"task": task, "cells": int(dsm.size)}
    from solweig.rustalgos import shadowing, skyview

    maxh = float(np.nanmax(dsm) - np.nanmin(dsm))
    if task == "svf":
        patch = int(d["patch_option"]) if "patch_option" in d else 2
        zeros = np.zeros_like(dsm)
        t = time.perf_counter()
        r = skyview.calculate_svf(dsm, zeros, zeros, cs, False, maxh, patch, 3.0, None)
        res["seconds"] = time.perf_counter() - t
        res["patch_option"] = patch
        np.savez(out, svf=np.asarray(r.svf, np.float32))
    elif task == "shadow":
        az, alt = float(d["azimuth"]), float(d["altitude"])
        shadowing.calculate_shadows_wall_ht_25(az, alt, cs, maxh, dsm)  # warm-up (GPU probing, allocation)
        t = time.perf_counter()
        r = shadowing.calculate_shadows_wall_ht_25(az, alt, cs, maxh, dsm)
        res["seconds"] = time.perf_counter() - t
        np.savez(out, sunlit=np.asarray(r.bldg_sh, np.float32))
    elif task == "hour":
        import logging

        logging.disable(logging.WARNING)
        import solweig

        s = solweig.SurfaceData(dsm=dsm, pixel_size=cs)
        t = time.perf_counter()
        s.compute_svf()
        res["svf_seconds"] = time.perf_counter() - t
        loc = solweig.Location(latitude=float(d["latitude"]), longitude=float(d["longitude"]), utc_offset=2)
        w = solweig.Weather(datetime=datetime.datetime(2003, 8, 13, 15, 0), ta=float(d["ta"]), rh=float(d["rh"]),
                            global_rad=float(d["ghi"]), ws=float(d["ws"]))
        with tempfile.TemporaryDirectory() as tmp:
            for aniso in (False, True) if int(d["aniso"]) else (False,):
                t = time.perf_counter()
                r = solweig.calculate(s, w, loc, output_dir=tmp, use_anisotropic_sky=aniso)
                res["hour_seconds_" + ("anisotropic" if aniso else "isotropic")] = time.perf_counter() - t
            res["tmrt_mean"] = float(np.nanmean(r.tmrt_mean))
            res["utci_mean"] = float(np.nanmean(r.utci_mean))
        np.savez(out, tmrt=np.asarray(r.tmrt_mean, np.float32))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
