"""Rendering: real off-screen pictures, glTF and HTML exports, animations, on a small synthetic twin."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from twin import Grid, Twin, TwinValueError
from twin.layers import LANDCOVER_INFO, Landcover
from twin.rasterize import compose_surface, rasterize_buildings, rasterize_values, tree_canopy

pytestmark = pytest.mark.render

X0, Y0 = 843000.0, 6519000.0
W_M, H_M = 120.0, 80.0
SIZE = (360, 240)


def _twin() -> Twin:
    grid = Grid.from_bounds(X0, Y0, X0 + W_M, Y0 + H_M, cell_size=1.0)
    xx, yy = np.meshgrid(grid.x - X0, grid.y - Y0)
    terrain = (50.0 + 0.02 * xx + 0.01 * yy).astype(np.float32)
    t = Twin.empty(grid, terrain=terrain, name="test town")
    tall = shapely.box(X0 + 20, Y0 + 20, X0 + 40, Y0 + 40)
    court = shapely.Polygon(shapely.box(X0 + 60, Y0 + 15, X0 + 100, Y0 + 50).exterior.coords,
                            [shapely.box(X0 + 72, Y0 + 25, X0 + 88, Y0 + 40).exterior.coords])
    small = shapely.box(X0 + 10, Y0 + 55, X0 + 20, Y0 + 65)
    buildings = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "height": [30.0, 9.0, 4.0], "use": ["housing", "school", "industrial"]},
        geometry=[tall, court, small], crs=grid.crs)
    ids, bh = rasterize_buildings(grid, buildings)
    road = shapely.LineString([(X0, Y0 + 8), (X0 + W_M, Y0 + 8)])
    roads = gpd.GeoDataFrame({"id": [1], "kind": ["boulevard"], "width": [6.0]}, geometry=[road], crs=grid.crs)
    lc = np.full(grid.shape, int(Landcover.GRASS), np.uint8)
    lc[rasterize_values(grid, [road.buffer(3)], [1], dtype="uint8") > 0] = Landcover.ROAD
    water = yy > 72
    lc[water] = Landcover.WATER
    lc[ids > 0] = Landcover.BUILDING
    tx, ty = np.array([X0 + 50, X0 + 110, X0 + 5]), np.array([Y0 + 60, Y0 + 60, Y0 + 30])
    th, td = np.array([12.0, 8.0, 10.0]), np.array([7.0, 5.0, 6.0])
    trees = gpd.GeoDataFrame({"id": [1, 2, 3], "height": th, "crown_diameter": td},
                             geometry=gpd.points_from_xy(tx, ty), crs=grid.crs)
    canopy = tree_canopy(grid, tx, ty, th, td)
    t.set_layer("building_id", ids)
    t.set_layer("building_height", bh)
    t.set_layer("canopy_height", canopy)
    t.set_layer("landcover", lc)
    t.set_layer("surface", compose_surface(terrain, bh, canopy))
    t.set_layer("water_level", np.where(water, np.float32(51.5), np.nan).astype(np.float32))
    t.set_table("buildings", buildings)
    t.set_table("roads", roads)
    t.set_table("trees", trees)
    return t


@pytest.fixture(scope="module")
def town() -> Twin:
    return _twin()


def _png(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# -- pictures ----------------------------------------------------------------------------------------

def test_png_has_requested_size_and_is_not_blank(town, tmp_path):
    from twin.render import render_twin

    out = render_twin(town, tmp_path / "o.png", size=SIZE, title="Test")
    img = _png(out)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) > 500
    assert img.std() > 20
    assert not list(tmp_path.glob(".*part*"))  # atomic write leaves no temporary file


def test_title_band_legend_and_scene_differ(town, tmp_path):
    from twin.render import Scene
    from twin.render.overlay import layout

    w, h = 480, 300
    lay = layout(w, h)
    img = Scene.of(town).render(size=(w, h), title="A title")
    bare = Scene.of(town).render(size=(w, h), title="A title", legend=False)
    # the title band is white paper with dark text, the scene below is not white
    band = img[: lay.header]
    assert (band[2, 2] == 255).all()
    assert (band.min(axis=2) < 80).sum() > 30  # the title's letters
    view = img[lay.header: h - lay.footer]
    assert (view.reshape(-1, 3) == 255).all(axis=1).mean() < 0.05
    # the legend box (top right of the view) changes that corner and only there
    corner = (slice(lay.header + 10, lay.header + 60), slice(w - 60, w - 12))
    assert np.abs(img[corner].astype(int) - bare[corner].astype(int)).mean() > 20
    far = (slice(h - lay.footer - 40, h - lay.footer - 5), slice(w // 2, w // 2 + 40))
    assert np.array_equal(img[far], bare[far])
    # the caption line at the bottom is light grey with grey text
    assert tuple(img[h - 2, w // 2]) == (243, 244, 246)


def test_top_view_shows_buildings_where_they_are(town):
    from twin.render import Classes, Scene
    from twin.render.overlay import layout

    w, h = 480, 360
    lay = layout(w, h)
    magenta = Classes(values=[True], colors=["#ff00ff"], labels=["marked"])
    marked = Scene.of(town).colour_buildings({1: True, 2: True}, classes=magenta)
    full = marked.render(view="top", size=(w, h), legend=False)
    plain = Scene.of(town).render(view="top", size=(w, h), legend=False)
    bare = Scene.of(town, buildings=False).render(view="top", size=(w, h), legend=False)
    cam = Scene.of(town).camera("top", w / lay.view_height)
    ppm = lay.view_height / (2 * cam.parallel_scale)
    cx, cy = cam.focal_point[0], cam.focal_point[1]

    def px(img, x, y):  # the picture's pixel at local metres (x, y)
        r = int(round(lay.header + lay.view_height / 2 - (y - cy) * ppm))
        c = int(round(w / 2 + (x - cx) * ppm))
        return img[r, c].astype(int)

    def is_magenta(p):
        return p[0] > 150 and p[2] > 150 and p[1] < 90

    assert is_magenta(px(full, 30, 30))  # the 30 m building, where it stands
    assert is_magenta(px(full, 64, 32))  # the courtyard building's roof
    assert not is_magenta(px(full, 80, 32))  # its courtyard: ground
    assert not is_magenta(px(full, 50, 60)) and not is_magenta(px(full, 5, 5))  # open ground
    # by default the school's roof is slate blue, over a terrain coloured as 'building' land cover
    school, ground = px(plain, 64, 32), px(bare, 64, 32)
    assert school[2] > school[0] and ground[0] > ground[2]
    assert np.array_equal(px(plain, 5, 40), px(bare, 5, 40)) or np.abs(px(plain, 5, 40) - px(bare, 5, 40)).sum() < 30


def test_bare_twin_renders(tmp_path):
    from twin.render import export_gltf, render_twin

    bare = Twin.empty(Grid.from_bounds(X0, Y0, X0 + 50, Y0 + 30), name="flat")
    for view in ("overview", "top", "street"):
        img = _png(render_twin(bare, tmp_path / f"{view}.png", size=(200, 140), view=view))
        assert img.shape == (140, 200, 3)
    import trimesh

    sc = trimesh.load(export_gltf(bare, tmp_path / "flat.glb"))
    assert list(sc.geometry) == ["terrain"]


def test_rendering_is_deterministic(town):
    from twin.render import Scene

    a = Scene.of(town).render(size=SIZE, date="2025-06-01")
    b = Scene.of(town).render(size=SIZE, date="2025-06-01")
    assert np.array_equal(a, b)


def test_street_view_and_bad_places(town, tmp_path):
    from twin.render import render_twin

    out = render_twin(town, tmp_path / "s.png", view="street", size=SIZE)
    img = _png(out)
    assert img.shape == (SIZE[1], SIZE[0], 3) and img.std() > 20
    out = render_twin(town, tmp_path / "s2.png", view="street", size=SIZE, at=(X0 + 50, Y0 + 8),
                      look=(X0 + 30, Y0 + 30))
    assert _png(out).std() > 20
    with pytest.raises(TwinValueError, match="outside the twin"):
        render_twin(town, tmp_path / "x.png", view="street", at=(0, 0))
    with pytest.raises(TwinValueError, match="invalid view"):
        render_twin(town, tmp_path / "x.png", view="aerial")
    with pytest.raises(TwinValueError, match="invalid size"):
        render_twin(town, tmp_path / "x.png", size=(5, 5))


def test_french_labels(town):
    from twin.render import EXPOSURE_CLASSES, Scene
    from twin.render.labels import text

    s = Scene.of(town, lang="fr")
    labels = [lab for _, lab in s._base_legend().items]
    assert "Herbe" in labels and "Eau" in labels and "Chaussée" in labels and "Arbres" in labels
    assert "Équipements publics" in labels
    assert text("overview", "fr") == "Vue d'ensemble"
    caption, _right = s._caption(None, "2025-06-01")
    assert "mailles" in caption
    s.drape(np.ones(town.grid.shape), label={"en": "Water depth", "fr": "Hauteur d'eau"}, units="m")
    s.colour_buildings({1: True, 2: False}, classes=EXPOSURE_CLASSES)
    _, legends = s._result_parts()
    titles = [lg.title for lg in legends]
    assert "Hauteur d'eau [m]" in titles and "Bâtiments" in titles
    items = [lab for lg in legends if lg.kind == "class" for _, lab in lg.items]
    assert {"Exposé", "Non exposé", "sans valeur"} <= set(items)
    with pytest.raises(TwinValueError, match="invalid lang"):
        Scene(town, lang="de")


# -- geometry ----------------------------------------------------------------------------------------

def test_buildings_extruded_with_holes(town):
    from twin.render.meshes import building_part

    part = building_part(town.buildings, town.grid, town.array("terrain"))
    tri, src = part.triangles()
    p = part.points.astype(np.float64)
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    n = np.cross(b - a, c - a)
    area = 0.5 * np.linalg.norm(n, axis=1)
    roof = part.cell_role[src] == 1
    ids = part.cell_ids[src]
    for bid, fp in zip(town.buildings["id"], town.buildings.geometry):
        assert area[roof & (ids == bid)].sum() == pytest.approx(fp.area, rel=1e-9)
    # the courtyard building: 2 x 40 + 2 x 35 outer + 2 x 16 + 2 x 15 inner walls of height >= 9 m
    walls = ~roof & (ids == 2)
    perimeter = 2 * (40 + 35) + 2 * (16 + 15)
    assert area[walls].sum() >= perimeter * 9.0
    # the tall building's roof stands at ground + 30 m; its walls reach below the terrain
    tz = town.array("terrain")
    z1 = p[np.unique(tri[ids == 1])][:, 2]
    ground = tz[town.array("building_id") == 1].min()
    assert z1.max() == pytest.approx(ground + 30.0, abs=0.05)
    assert z1.min() < ground


def test_lod2_surfaces_replace_lod1(town):
    from twin.render import Scene

    t = town.copy()
    x, y, z0, z1 = X0 + 20, Y0 + 20, 50.0, 80.0
    sq = [(x, y), (x + 20, y), (x + 20, y + 20), (x, y + 20)]
    roof = shapely.Polygon([(a, b, z1) for a, b in sq])
    walls = [shapely.Polygon([(*sq[i], z0), (*sq[(i + 1) % 4], z0), (*sq[(i + 1) % 4], z1), (*sq[i], z1)])
             for i in range(4)]
    surf = gpd.GeoDataFrame({"building_id": [1] * 5, "surface": ["roof"] + ["wall"] * 4},
                            geometry=[roof] + walls, crs=t.grid.crs)
    t.set_table("building_surfaces", surf)
    parts = {p.name: p for p in Scene.of(t).parts()}
    lod2, lod1 = parts["buildings_lod2"], parts["buildings"]
    assert set(np.unique(lod2.cell_ids)) == {1}
    assert 1 not in set(np.unique(lod1.cell_ids))
    tri, _src = lod2.triangles()
    p = lod2.points.astype(np.float64)
    area = 0.5 * np.linalg.norm(np.cross(p[tri[:, 1]] - p[tri[:, 0]], p[tri[:, 2]] - p[tri[:, 0]]), axis=1)
    assert area.sum() == pytest.approx(400 + 4 * 20 * 30, rel=1e-9)
    assert p[:, 0].min() == pytest.approx(20.0) and p[:, 2].max() == pytest.approx(z1)


def test_sun_shadow_length_matches_geometry():
    from twin.render.meshes import hillshade, sun_shadow

    surf = np.zeros((60, 40), np.float32)
    surf[40:50, 15:25] = 10.0  # a 10 m block; north is row 0
    shade = sun_shadow(surf, 1.0, azimuth=180.0, elevation=45.0)  # sun in the south: shadow to the north
    col = shade[:40, 20]
    assert col.sum() == 10 and col[30:40].all()  # 10 m / tan(45 deg) = 10 cells north of the block
    assert not shade[50:, :].any()
    hs = hillshade(np.zeros((10, 10)), 1.0)
    assert np.allclose(hs, 1.0)


def test_raster_surface_covers_valid_cells_exactly():
    from twin.render.meshes import raster_surface

    g = Grid.from_bounds(0, 0, 10, 8, cell_size=0.5)
    z = np.full(g.shape, 3.0)
    z[:4, :6] = np.nan
    pts, quads, (r, c), tc = raster_surface(g, z, step=1)
    assert len(quads) == np.isfinite(z).sum()
    q = pts[quads]
    d1, d2 = q[:, 2, :2] - q[:, 0, :2], q[:, 1, :2] - q[:, 3, :2]
    area = 0.5 * np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    assert area.sum() == pytest.approx(np.isfinite(z).sum() * 0.25)
    assert np.all(np.isfinite(z[r, c])) and np.allclose(pts[:, 2], 3.0)
    assert pts[:, 0].max() == 10.0 and pts[:, 1].max() == 8.0 and tc.min() >= 0 and tc.max() <= 1
    pts2, quads2, _, _ = raster_surface(g, z, step=3)
    assert len(quads2) < len(quads) and pts2[:, 0].max() == 10.0


# -- results --------------------------------------------------------------------------------------------

def test_classes_and_building_colours(town):
    from twin.render import DPE_CLASSES, UTCI_CLASSES, Scene

    assert UTCI_CLASSES.classify([25.9, 26.0, 46.0, -50.0, np.nan]).tolist() == [5, 6, 9, 0, -1]
    assert DPE_CLASSES.classify(["A", "G", "X"]).tolist() == [0, 6, -1]
    s = Scene.of(town).colour_buildings({1: "A", 2: "G"}, classes=DPE_CLASSES)
    part = next(p for p in s.parts() if p.name == "buildings_coloured")
    roof1 = part.cell_rgb[(part.cell_ids == 1) & (part.cell_role == 1)]
    roof2 = part.cell_rgb[(part.cell_ids == 2) & (part.cell_role == 1)]
    assert (roof1 == DPE_CLASSES.rgb[0]).all() and (roof2 == DPE_CLASSES.rgb[6]).all()
    s2 = Scene.of(town).colour_buildings({1: 10.0, 2: 20.0, 3: 30.0}, label="kWh", cmap="viridis")
    _, legends = s2._result_parts()
    assert legends[0].kind == "bar" and legends[0].clim == (10.0, 30.0)
    with pytest.raises(TwinValueError, match="does not match the twin grid"):
        Scene.of(town).drape(np.ones((3, 3)), label="x")


def test_drape_leaves_nodata_transparent(town):
    from twin.render import Scene

    depth = np.full(town.grid.shape, np.nan, np.float32)
    depth[60:70, 10:50] = 0.8
    s = Scene.of(town).drape(depth, label="depth", units="m", cmap="water", as_water=True, step=1)
    drape = next(p for p in s.parts() if p.name.startswith("drape"))
    assert len(drape.faces) == 400  # only the wet cells
    tz = town.array("terrain")
    assert drape.points[:, 2].max() <= tz.max() + 0.8 + 1e-4
    img = s.render(size=SIZE, view="top")
    assert img.shape == (SIZE[1], SIZE[0], 3)


def test_night_view_with_lights_and_lines(town, tmp_path):
    from twin.render import Scene

    ill = np.full(town.grid.shape, np.nan, np.float32)
    ill[:20, :] = np.linspace(0, 20, town.grid.ncols)[None, :]
    s = (Scene.of(town, night=True)
         .drape(ill, label="Illuminance", units="lx", cmap="inferno")
         .add_lights([X0 + 20, X0 + 60, X0 + 100], [Y0 + 10] * 3, height=8.0, cct=[3000, 4000, 2200])
         .add_lines([shapely.LineString([(X0, Y0 + 8), (X0 + 60, Y0 + 8)])], label="failing"))
    out = s.screenshot(tmp_path / "night.png", size=SIZE)
    img = _png(out).astype(int)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    day = Scene.of(town).render(size=SIZE).astype(int)
    assert img.mean() < day.mean() - 40  # a dark picture
    assert (img.max(axis=2) > 200).sum() > 50  # with bright points and lines


def test_side_by_side_is_two_panels_wide_with_shared_scale(town, tmp_path):
    from twin.render import Scene, side_by_side

    a = np.full(town.grid.shape, np.nan, np.float32)
    a[50:70, 5:60] = 2.0
    b = np.where(np.isfinite(a), 0.5, np.nan).astype(np.float32)
    sa = Scene.of(town).drape(a, label="depth", units="m", cmap="water")
    sb = Scene.of(town).drape(b, label="depth", units="m", cmap="water")
    out = side_by_side([sa, sb], tmp_path / "sbs.png", size=(300, 220), title="Before / after")
    with Image.open(out) as im:
        assert im.size == (600, 220)
    assert sa.legend_keys() == {"depth|m": (2.0, 2.0)}
    _, lga = sa._result_parts({"depth|m": (0.5, 2.0)})
    assert lga[0].clim == (0.5, 2.0)


def test_animation_has_one_frame_per_snapshot(town, tmp_path):
    import imageio.v3 as iio

    from twin.render import Scene, animate

    frames = []
    for k in range(4):
        d = np.full(town.grid.shape, np.nan, np.float32)
        d[60:, :] = 0.3 * k
        frames.append((600.0 * k, d))
    gif, mp4 = animate(Scene.of(town), frames, [tmp_path / "f.gif", tmp_path / "f.mp4"], label="depth",
                       size=(240, 160), fps=2)
    g = iio.imread(gif, index=None)
    assert g.shape[0] == 4 and g.shape[1:3] == (160, 240)
    assert not np.array_equal(g[0], g[3])  # the water rises
    import imageio

    with imageio.get_reader(mp4) as r:
        assert r.count_frames() == 4
    with pytest.raises(TwinValueError, match=".gif or .mp4"):
        animate(Scene.of(town), frames, tmp_path / "f.avi", label="depth")


# -- exports --------------------------------------------------------------------------------------------

def test_gltf_round_trip(town, tmp_path):
    import trimesh

    from twin.render import export_gltf

    out = export_gltf(town, tmp_path / "town.glb")
    sc = trimesh.load(out)
    names = sorted(n for n in sc.geometry if n.startswith("building_"))
    assert names == ["building_1", "building_2", "building_3"]
    assert {"terrain", "trees", "water"} <= set(sc.geometry)
    lo, hi = sc.bounds
    assert np.all(np.abs(lo) <= 200) and np.all(np.abs(hi) <= 200)  # local metres, not 7e5
    tall = sc.geometry["building_1"]
    tz = town.array("terrain")[town.array("building_id") == 1].min()
    assert tall.vertices[:, 1].max() == pytest.approx(tz + 30.0, abs=0.05)  # y is up
    assert tall.vertices[:, 0].min() == pytest.approx(20.0, abs=1e-3)  # x east from the origin
    assert tall.vertices[:, 2].max() == pytest.approx(-20.0, abs=1e-3)  # z = -north
    assert sc.metadata.get("jumeau_origin") == [X0, Y0, 0.0]
    # the .gltf flavour holds the same scene
    sc2 = trimesh.load(export_gltf(town, tmp_path / "town.gltf"))
    assert len([n for n in sc2.geometry if n.startswith("building_")]) == 3
    with pytest.raises(TwinValueError, match=".glb or .gltf"):
        export_gltf(town, tmp_path / "town.obj")


def test_html_embeds_the_scene(town, tmp_path):
    pytest.importorskip("trame_vtk", reason="the HTML export needs trame-vtk")
    from twin.render import export_html

    out = export_html(town, tmp_path / "town.html")
    html = out.read_text(encoding="utf-8")
    assert "OfflineLocalView" in html
    data = re.search(r'const base64Str = "([^"]+)"', html).group(1)
    index = json.loads(zipfile.ZipFile(io.BytesIO(base64.b64decode(data))).read("index.json"))
    kinds = re.findall(r'"type": "(vtk\w+)"', json.dumps(index["scene"]))
    assert kinds.count("vtkPolyData") == 4  # terrain, water, buildings, trees
    assert "vtkTexture" in kinds
    assert len(index["hashes"]) >= 8  # points, polys and colours of the meshes


def test_landcover_colours_come_from_the_glossary():
    from twin.render.palettes import landcover_rgb

    lc = np.array([[int(Landcover.ROAD), int(Landcover.WATER)]], np.uint8)
    rgb = landcover_rgb(lc)
    assert tuple(rgb[0, 0]) == LANDCOVER_INFO[Landcover.ROAD][2]
    assert tuple(rgb[0, 1]) == LANDCOVER_INFO[Landcover.WATER][2]


def test_long_french_legend_in_a_narrow_panel_fits_without_endless_shrinking():
    # regression: the legend used to shrink itself recursively forever when labels could never fit
    from PIL import Image

    from twin.render.overlay import ClassLegend, draw_legends

    img = Image.new("RGBA", (200, 160), (255, 255, 255, 255))
    items = [((200, 30, 30), "Stress thermique extrêmement fort (UTCI > 46 °C)")] * 5
    draw_legends(img, (0, 0, 200, 160), [ClassLegend("Classes de stress thermique", items)], unit=1.0)
    arr = __import__("numpy").asarray(img)
    assert (arr[..., :3] != 255).any()  # something was drawn, and the call returned
