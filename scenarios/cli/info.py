"""Describe a saved twin: extent, CRS, cell size, layers with units and ranges, tables, provenance."""

from __future__ import annotations

import json

HELP = "describe a saved twin"


def add_arguments(parser) -> None:
    parser.add_argument("path", metavar="PATH", help="a twin directory written by jumeau")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--no-verify", action="store_true", help="skip the checksum verification")


def run(args) -> int:
    from twin.io import open_twin

    twin = open_twin(args.path, verify=not args.no_verify)
    info = twin.summary()
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(format_summary(info))
    return 0


def format_summary(info: dict) -> str:
    xmin, ymin, xmax, ymax = info["bounds"]
    lines = [
        f"{info['name']}" + (f": {info['description']}" if info.get("description") else ""),
        f"  CRS        {info['crs']}",
        f"  cell size  {info['cell_size']:g} m",
        f"  shape      {info['shape'][0]} rows x {info['shape'][1]} columns ({info['area_km2']:.3f} km2, "
        f"{info['bytes_per_cell']} bytes per cell)",
        f"  extent     x {xmin:.2f} .. {xmax:.2f}, y {ymin:.2f} .. {ymax:.2f}",
        "  layers",
    ]
    for name, lay in info["layers"].items():
        rng = "empty" if lay["min"] is None else f"{lay['min']:g} .. {lay['max']:g}"
        nod = f", {lay['nodata_cells']} nodata" if lay["nodata_cells"] else ""
        units = f"[{lay['units']}]" if lay["units"] else ""
        lines.append(f"    {name:<16} {lay['dtype']:<8} {units:<6} {rng}{nod}")
    lines.append("  tables")
    if not info["tables"]:
        lines.append("    (none)")
    for name, n in info["tables"].items():
        lines.append(f"    {name:<16} {n} rows")
    lines.append("  provenance")
    if not info["provenance"]:
        lines.append("    (none)")
    for rec in info["provenance"]:
        extra = ", ".join(f"{k}={v}" for k, v in rec.items() if k not in ("step", "time") and not isinstance(v, (dict, list)))
        lines.append(f"    {rec.get('time', '')}  {rec.get('step', '')}" + (f"  ({extra})" if extra else ""))
    return "\n".join(lines)
