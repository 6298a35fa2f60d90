import numpy as np
import pytest

from twin import Grid, TwinCRSError, TwinValueError, Window


def test_from_bounds_snaps_outwards_to_the_cell_size():
    g = Grid.from_bounds(842000.3, 6519000.2, 842999.9, 6520000.7, cell_size=1.0)
    assert g.bounds == (842000.0, 6519000.0, 843000.0, 6520001.0)
    assert g.shape == (1001, 1000)
    assert g.crs == "EPSG:2154"


def test_half_metre_grid_and_non_origin_extent():
    g = Grid.from_bounds(770550.26, 6277999.9, 770600.1, 6278050.2, cell_size=0.5)
    assert (g.xmin, g.ymax) == (770550.0, 6278050.5)
    assert g.xmin % 0.5 == 0 and g.ymax % 0.5 == 0
    assert g.shape == (102, 101)
    # first cell centre sits a quarter metre in from the corner
    x, y = g.xy(0, 0)
    assert (float(x), float(y)) == (770550.25, 6278050.25)


@pytest.mark.parametrize("cs", [0.5, 1.0, 2.0, 5.0, 0.25])
def test_index_world_round_trip(cs):
    g = Grid.from_bounds(1000, 2000, 1100, 2050, cell_size=cs)
    rows, cols = np.meshgrid(np.arange(g.nrows), np.arange(g.ncols), indexing="ij")
    x, y = g.xy(rows, cols)
    r2, c2 = g.rowcol(x, y)
    assert np.array_equal(r2, rows) and np.array_equal(c2, cols)
    # a cell's west and north edges belong to it; the east edge to the next cell
    r, c = g.rowcol(1000 + cs, 2050)
    assert (int(r), int(c)) == (0, 1)
    assert g.transform @ (0, 0) == (1000.0, 2050.0)
    assert g.transform @ (g.ncols, g.nrows) == (1100.0, 2000.0)


def test_contains_and_window():
    g = Grid.from_bounds(0, 0, 100, 50, cell_size=1)
    assert g.contains(0, 50) and not g.contains(100, 25) and not g.contains(-0.1, 25)
    w = g.window(10, 20, 20.0, 30)
    assert w == Window(20, 10, 10, 10)
    sub = g.subgrid(w)
    assert sub.bounds == (10, 20, 20, 30)
    assert g.window(-50, -50, 500, 500) == g.full_window


def test_tiles_partition_the_grid_and_halos_clip():
    g = Grid.from_bounds(0, 0, 250, 200, cell_size=1)
    seen = np.zeros(g.shape, dtype=int)
    tiles = list(g.tiles(64, halo=3))
    assert len(tiles) == 4 * 4
    for t in tiles:
        seen[t.window.slices] += 1
        p = t.padded
        assert p.row_off >= 0 and p.col_off >= 0
        assert p.row_off + p.height <= g.nrows and p.col_off + p.width <= g.ncols
        # the core sits inside the padded block at the offsets `inner` gives
        block = np.arange(g.size).reshape(g.shape)[p.slices]
        assert np.array_equal(block[t.inner], np.arange(g.size).reshape(g.shape)[t.window.slices])
    assert (seen == 1).all()
    middle = tiles[5]  # away from the border: the full halo
    assert middle.window == Window(64, 64, 64, 64)
    assert middle.padded == Window(61, 61, 70, 70)
    corner = tiles[0]  # at the north-west corner the halo is clipped
    assert corner.padded == Window(0, 0, 67, 67)
    assert tiles[-1].window == Window(192, 192, 8, 58)


def test_bad_grids_are_refused_with_clear_messages():
    with pytest.raises(TwinValueError, match="cell_size"):
        Grid.from_bounds(0, 0, 10, 10, cell_size=0)
    with pytest.raises(TwinValueError, match="extent"):
        Grid.from_bounds(10, 0, 0, 10)
    with pytest.raises(TwinValueError, match="whole multiple"):
        Grid(xmin=0.3, ymax=10, nrows=10, ncols=10, cell_size=1.0)
    with pytest.raises(TwinCRSError, match="geographic"):
        Grid.from_bounds(0, 0, 1, 1, crs="EPSG:4326")
    with pytest.raises(TwinCRSError, match="invalid CRS"):
        Grid.from_bounds(0, 0, 1, 1, crs="EPSG:999999")


def test_centre_latlon_at_the_lambert93_origin():
    # Lambert-93's projection centre: (700000, 6600000) is 3 degrees east, 46.5 degrees north
    lat, lon = Grid.from_bounds(699500, 6599500, 700500, 6600500).centre_latlon()
    assert lat == pytest.approx(46.5, abs=1e-9) and lon == pytest.approx(3.0, abs=1e-9)
