import numpy as np
import pytest

from importers.pointcloud import open_pointcloud, rasterize_pointcloud
from importers.rasters import resample_to_grid
from tests.importers.synth import write_las
from twin import Grid, TwinCRSError, TwinFormatError


def test_laz_terrain_agrees_with_the_ign_mnt(ign_tile):
    src = open_pointcloud(ign_tile["laz"])
    assert (src.version, src.point_format, src.point_count, src.crs) == ("1.4", 8, 60653, "EPSG:2154")
    grid = Grid.from_bounds(770550, 6277550, 770600, 6277600, cell_size=1.0)
    pc = rasterize_pointcloud(src, grid)
    mnt = resample_to_grid(ign_tile["dtm"], grid).values
    d = np.abs(pc.terrain - mnt)
    assert np.isfinite(d).all()
    # measured: median 0.011 m, p95 0.09 m over all cells (0.007 / 0.05 where ground points exist)
    assert np.median(d) < 0.03
    assert np.percentile(d, 95) < 0.15
    observed = ~pc.terrain_filled
    assert np.median(d[observed]) < 0.02 and np.percentile(d[observed], 95) < 0.1
    assert pc.class_counts[2] > 20000 and pc.class_counts[6] > 10000
    # buildings are classified: their cells are mostly class 6, and never enter the terrain
    assert (pc.building_fraction > 0.5).sum() > 500
    assert pc.terrain_filled[pc.building_fraction > 0.9].mean() > 0.9
    # the surface is the highest return: never below the terrain, at least the MNS average minus noise
    mns = resample_to_grid(ign_tile["dsm"], grid).values
    assert (pc.surface >= pc.terrain).all()
    assert np.median(pc.surface - mns) > -0.05


def _scene(rng, n=20000):
    """Ground on a plane, a 10 m building block, a tree, a bridge deck, noise, virtual points."""
    x = rng.uniform(0, 40, n) + 700000
    y = rng.uniform(0, 40, n) + 6600000
    ground = 50 + 0.1 * (x - 700000) + 0.05 * (y - 6600000)
    z = ground.copy()
    cls = np.full(n, 2, np.uint8)
    bx = (x - 700000 >= 10) & (x - 700000 < 20) & (y - 6600000 >= 10) & (y - 6600000 < 20)
    z[bx] = ground[bx] + 10.0
    cls[bx] = 6
    tree = (x - 700000 >= 25) & (x - 700000 < 30) & (y - 6600000 >= 25) & (y - 6600000 < 30)
    z[tree] = ground[tree] + 7.0
    cls[tree] = 5
    bridge = (x - 700000 >= 0) & (x - 700000 < 5) & (y - 6600000 >= 30)
    z[bridge] = ground[bridge] + 6.0
    cls[bridge] = 17
    noise = rng.random(n) < 0.01
    z[noise] = ground[noise] + 300.0
    cls[noise] = 7
    return x, y, z, cls, ground


def test_synthetic_classes_go_where_they_belong(tmp_path):
    rng = np.random.default_rng(1)
    x, y, z, cls, _ground = _scene(rng)
    # virtual ground points (IGN class 66) under the bridge
    vx = rng.uniform(0, 5, 500) + 700000
    vy = rng.uniform(30, 40, 500) + 6600000
    vz = 50 + 0.1 * (vx - 700000) + 0.05 * (vy - 6600000)
    p = write_las(tmp_path / "scene.laz", np.r_[x, vx], np.r_[y, vy], np.r_[z, vz], np.r_[cls, np.full(500, 66, np.uint8)])
    grid = Grid.from_bounds(700000, 6600000, 700040, 6600040, cell_size=1.0)
    pc = rasterize_pointcloud(p, grid)
    xx, yy = np.meshgrid(grid.x - 700000, grid.y - 6600000)
    plane = 50 + 0.1 * xx + 0.05 * yy
    # terrain: ground points averaged per cell (a plane is its own mean), bridge and building excluded
    assert np.max(np.abs(pc.terrain - plane)) < 0.1
    under_building = (xx > 11) & (xx < 19) & (yy > 11) & (yy < 19)
    assert pc.terrain_filled[under_building].all()
    under_bridge = (xx < 5) & (yy > 30)
    assert not pc.terrain_filled[under_bridge].any()  # virtual points give the terrain there
    assert pc.bridge[under_bridge].mean() > 0.9
    # the noise (300 m up) never reaches the surface
    assert np.nanmax(pc.surface - plane) < 10.5
    assert np.median((pc.surface - plane)[under_building]) == pytest.approx(10.0, abs=0.3)
    tree = (xx > 25.5) & (xx < 29.5) & (yy > 25.5) & (yy < 29.5)
    assert np.median(pc.canopy_height[tree]) == pytest.approx(7.0, abs=0.3)
    assert pc.canopy_height[under_building].max() == 0.0
    assert (pc.building_fraction[under_building] == 1.0).all()


def test_chunked_reading_gives_the_same_rasters(tmp_path):
    rng = np.random.default_rng(2)
    x, y, z, cls, _ = _scene(rng, 8000)
    p = write_las(tmp_path / "s.las", x, y, z, cls, version="1.2", point_format=1)
    grid = Grid.from_bounds(700000, 6600000, 700040, 6600040, cell_size=2.0)
    big = rasterize_pointcloud(open_pointcloud(p, default_crs="EPSG:2154"), grid, chunk_size=1_000_000)
    small = rasterize_pointcloud(open_pointcloud(p, default_crs="EPSG:2154"), grid, chunk_size=777)
    for name in ("terrain", "surface", "canopy_height", "building_fraction"):
        np.testing.assert_allclose(getattr(big, name), getattr(small, name), rtol=0, atol=1e-5)
    assert big.points_read == small.points_read == 8000


def test_a_laz_without_ground_points_is_refused(tmp_path):
    rng = np.random.default_rng(5)
    n = 500
    p = write_las(tmp_path / "noground.laz", rng.uniform(0, 10, n) + 7e5, rng.uniform(0, 10, n) + 6.6e6,
                  rng.uniform(50, 60, n), np.full(n, 5, np.uint8))
    grid = Grid.from_bounds(7e5, 6.6e6, 7e5 + 10, 6.6e6 + 10)
    with pytest.raises(TwinFormatError, match=r"noground.laz: no ground points \(class 2"):
        rasterize_pointcloud(p, grid)


def test_bad_point_cloud_files(tmp_path):
    junk = tmp_path / "junk.laz"
    junk.write_bytes(b"PK\x03\x04 definitely not LAS")
    with pytest.raises(TwinFormatError, match="junk.laz: not a readable LAS/LAZ file"):
        open_pointcloud(junk)
    p = write_las(tmp_path / "nocrs.las", [7e5, 7e5 + 1], [6.6e6, 6.6e6 + 1], [1, 2], [2, 2], crs=None)
    with pytest.raises(TwinCRSError, match="nocrs.las: the point cloud declares no CRS"):
        open_pointcloud(p)
    # truncated LAZ: the header reads, the points do not
    rng = np.random.default_rng(6)
    x, y, z, cls, _ = _scene(rng, 20000)
    good = write_las(tmp_path / "cut.laz", x, y, z, cls)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(TwinFormatError, match="cut.laz"):
        rasterize_pointcloud(good, Grid.from_bounds(700000, 6600000, 700040, 6600040))
