import numpy as np
import pytest

from importers.rasters import open_raster, parse_ign_tile_name, resample_to_grid
from tests.importers.synth import plane, write_asc, write_tif
from twin import Grid, TwinCRSError, TwinFileNotFoundError, TwinFormatError, TwinValueError


def area_weighted_mean(src: np.ndarray, *, src_x0, src_y0, src_res, grid: Grid) -> np.ndarray:
    """Independent reference: mean of the source pixels over each twin cell, weighted by overlap area."""
    out = np.full(grid.shape, np.nan)
    xs = src_x0 + src_res * np.arange(src.shape[1] + 1)
    ys = src_y0 - src_res * np.arange(src.shape[0] + 1)
    for r in range(grid.nrows):
        cy1 = grid.ymax - r * grid.cell_size
        cy0 = cy1 - grid.cell_size
        wy = np.clip(np.minimum(ys[:-1], cy1) - np.maximum(ys[1:], cy0), 0, None)
        for c in range(grid.ncols):
            cx0 = grid.xmin + c * grid.cell_size
            cx1 = cx0 + grid.cell_size
            wx = np.clip(np.minimum(xs[1:], cx1) - np.maximum(xs[:-1], cx0), 0, None)
            w = wy[:, None] * wx[None, :]
            ok = (w > 0) & np.isfinite(src)
            if ok.any():
                out[r, c] = (w[ok] * src[ok]).sum() / w[ok].sum()
    return out


@pytest.mark.parametrize("key", ["dtm", "dsm"])
def test_ign_tile_resampled_to_1m_is_the_area_weighted_mean(ign_tile, key):
    src = open_raster(ign_tile[key])
    assert src.crs == "EPSG:2154" and src.res == 0.5 and -9999.0 in src.nodata
    # IGN convention: the pixel grid is offset by a quarter metre
    assert src.transform.c % 1 == pytest.approx(0.75) and src.transform.f % 1 == pytest.approx(0.25)
    grid = Grid.from_bounds(770550, 6277550, 770600, 6277600, cell_size=1.0)
    res = resample_to_grid(src, grid)
    assert res.method[src.path.name] == "average"
    raw = src.read()
    assert np.isnan(raw).sum() > 0  # the tile has a few NoData pixels (-9999)
    ref = area_weighted_mean(raw, src_x0=src.transform.c, src_y0=src.transform.f, src_res=0.5, grid=grid)
    assert np.isfinite(res.values).all()
    ok = np.isfinite(ref)
    # "within rounding": float32 arithmetic on altitudes of ~20-40 m
    assert np.max(np.abs(res.values[ok] - ref[ok])) < 1e-4


def test_rge_alti_asc_tiles_with_north_west_naming_mosaic_without_seam(tmp_path):
    # two 5 m RGE ALTI-like tiles side by side, named by the centre of their north-west cell (km)
    res, n = 5.0, 40
    tiles = []
    for k, xkm in enumerate((990, 990.2)):
        x_nw, y_nw = xkm * 1000, 6301 * 1000
        xc = x_nw + res * np.arange(n)
        yc = y_nw - res * np.arange(n)
        vals = plane(xc[None, :], yc[:, None])
        name = f"RGEALTI_FXX_{int(xkm):04d}_{int(round(y_nw / 1000)):04d}_MNT_LAMB93_IGN69.asc" if k == 0 else "second_tile.asc"
        tiles.append(write_asc(tmp_path / name, vals, xll=x_nw - res / 2, yll=y_nw + res / 2 - n * res, res=res))
    src = open_raster(tiles[0])
    assert src.crs == "EPSG:2154" and any("assumed EPSG:2154" in m or "tile name" in m for m in src.notes)
    t = parse_ign_tile_name(tiles[0].name)
    # the name is the north-west cell centre: the header's corner is half a cell further out
    assert t.x_km * 1000 == src.transform.c + res / 2
    assert not any("the name says" in m for m in src.notes)
    # coarsening to 10 m: the average of a plane is the plane at the cell centre, across the seam
    grid = Grid.from_bounds(990000, 6300810, 990390, 6301000, cell_size=10.0)
    out = resample_to_grid(tiles, grid)
    xx, yy = np.meshgrid(grid.x, grid.y)
    inside = np.isfinite(out.values)
    assert inside.mean() > 0.9
    assert np.max(np.abs(out.values[inside] - plane(xx, yy)[inside])) < 2e-3
    # refining to 1 m is bilinear: exact on a plane, never nearest-neighbour steps
    fine = Grid.from_bounds(990150, 6300850, 990250, 6300900, cell_size=1.0)
    out = resample_to_grid(tiles, fine)
    xx, yy = np.meshgrid(fine.x, fine.y)
    assert set(out.method.values()) == {"bilinear"}
    assert np.max(np.abs(out.values - plane(xx, yy))) < 2e-3


def test_a_tile_whose_name_disagrees_with_its_header_is_noted(tmp_path):
    vals = np.full((10, 10), 50.0)
    p = write_asc(tmp_path / "RGEALTI_FXX_0500_6800_MNT_LAMB93_IGN69.asc", vals, xll=600000.0, yll=6700000.0, res=1.0)
    src = open_raster(p)
    assert any("the name says the north-west cell is at (500000, 6800000)" in m for m in src.notes)


def test_every_nodata_convention_is_missing_and_gaps_are_filled_or_reported(tmp_path):
    res = 1.0
    x0, y0 = 990000.0, 6300100.0
    n = 100
    xc = x0 + res * (np.arange(n) + 0.5)
    yc = y0 - res * (np.arange(n) + 0.5)
    vals = plane(xc[None, :], yc[:, None]).astype(np.float32)
    vals[10, 10] = -9999
    vals[20, 30] = 9999
    vals[40, 40:42] = -99999
    vals[60, 60] = np.nan
    vals[70:90, 10:40] = -9999  # a large gap (600 m2)
    p = write_tif(tmp_path / "t.tif", vals, x0=x0, y0=y0, res=res, nodata=-9999)
    grid = Grid.from_bounds(x0, y0 - 100, x0 + 110, y0, cell_size=1.0)  # 10 columns beyond the raster
    out = resample_to_grid(p, grid, max_gap_area=100)
    xx, yy = np.meshgrid(grid.x, grid.y)
    truth = plane(xx, yy)
    for r, c in ((10, 10), (20, 30), (40, 40), (40, 41), (60, 60)):
        assert out.filled_mask[r, c]
        assert abs(out.values[r, c] - truth[r, c]) < 0.05  # inverse-distance fill of a plane
    assert out.filled_gaps == 4 and out.filled_cells == 5
    assert out.large_gaps == 1 and out.large_gap_cells == 600
    assert np.isnan(out.values[70:90, 10:40]).all()
    assert out.uncovered_cells == 100 * 10
    assert any("larger than 100 m2" in m for m in out.notes)


def test_raster_without_crs_is_refused_unless_given(tmp_path):
    p = write_tif(tmp_path / "nocrs.tif", np.ones((5, 5)), x0=700000, y0=6600000, res=1.0, crs=None)
    with pytest.raises(TwinCRSError, match=r"nocrs.tif: the raster has no CRS; give it with --source-crs"):
        open_raster(p)
    assert open_raster(p, default_crs="EPSG:2154").crs == "EPSG:2154"
    assert open_raster(p, crs=2154).crs == "EPSG:2154"


def test_tiles_in_different_crs_and_resolutions_are_reprojected_and_the_finest_wins(tmp_path):
    from pyproj import Transformer

    # tile A: Lambert-93, 2 m; tile B: the neighbouring area in CC46 (EPSG:3946), 4 m; the field is a plane in L93
    def f93(x, y):
        return 200.0 + 0.003 * (x - 842000) + 0.002 * (y - 6519000)

    xa, ya = 842000.0, 6519200.0
    xc = xa + 2 * (np.arange(100) + 0.5)
    yc = ya - 2 * (np.arange(100) + 0.5)
    a = write_tif(tmp_path / "a.tif", f93(xc[None, :], yc[:, None]), x0=xa, y0=ya, res=2.0)
    to93 = Transformer.from_crs(3946, 2154, always_xy=True)
    fwd = Transformer.from_crs(2154, 3946, always_xy=True)
    bx, by = fwd.transform(842150.0, 6519250.0)
    bx, by = np.floor(bx), np.ceil(by)
    xs = bx + 4 * (np.arange(80) + 0.5)
    ys = by - 4 * (np.arange(80) + 0.5)
    X, Y = np.meshgrid(xs, ys)
    X93, Y93 = to93.transform(X, Y)
    b = write_tif(tmp_path / "b.tif", f93(X93, Y93), x0=bx, y0=by, res=4.0, crs="EPSG:3946")
    grid = Grid.from_bounds(842000, 6519000, 842400, 6519200, cell_size=5.0)
    out = resample_to_grid([b, a], grid)
    assert any("2 CRS/resolution groups" in m for m in out.notes)
    assert any("reprojected from EPSG:3946" in m for m in out.notes)
    xx, yy = np.meshgrid(grid.x, grid.y)
    ok = np.isfinite(out.values)
    assert ok.mean() > 0.8
    assert np.max(np.abs(out.values[ok] - f93(xx, yy)[ok])) < 0.02


def test_bad_raster_inputs_say_what_and_where(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(TwinFormatError, match="empty.tif: empty file"):
        open_raster(empty)
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster at all")
    with pytest.raises(TwinFormatError, match="junk.tif: not a readable raster"):
        open_raster(junk)
    with pytest.raises(TwinFileNotFoundError, match="missing.tif: no such raster"):
        open_raster(tmp_path / "missing.tif")
    p = write_tif(tmp_path / "ok.tif", np.ones((4, 4)), x0=0, y0=4, res=1.0)
    with pytest.raises(TwinValueError, match="never nearest"):
        resample_to_grid(p, Grid.from_bounds(0, 0, 4, 4), resampling="nearest")


def test_ign_names():
    t = parse_ign_tile_name("LHD_FXX_0770_6278_MNT_O_0M50_LAMB93_IGN69.tif")
    assert (t.product, t.kind, t.x_km, t.y_km, t.crs, t.cell_size) == ("LHD", "terrain", 770, 6278, "EPSG:2154", 0.5)
    assert parse_ign_tile_name("LHD_FXX_0770_6278_PTS_C_LAMB93_IGN69.copc.laz").kind == "pointcloud"
    assert parse_ign_tile_name("RGEALTI_FXX_0990_6305_MNS_LAMB93_IGN69.asc").kind == "surface"
    assert parse_ign_tile_name("DTM_77055_627760_LA93_IGN69_50CM.tif") is None
