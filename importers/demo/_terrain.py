"""The ground of the demo town: an analytic surface, evaluated wherever it is asked.

The terrain is a sum of smooth terms (the valley, the terrace scarp, the hillside,
a closed depression, a low micro-relief), into which the river channel and the
pond are carved with a smooth minimum. Because it is a function of (x, y) and not
a raster, a finer grid samples the same ground, and building altitudes do not
depend on the cell size.

Altitudes are in metres NGF-IGN69; x, y in local metres (see ``_plan``).
"""

from __future__ import annotations

import numpy as np

from importers.demo._plan import Plan


def smoothstep(t):
    """0 below 0, 1 above 1, C1-smooth in between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def smooth_min(a, b, k: float):
    """A smooth minimum of ``a`` and ``b`` (log-sum-exp, blending over about ``k`` metres)."""
    m = np.minimum(a, b)
    return m - k * np.log1p(np.exp(-np.abs(a - b) / k))


def softplus(v, k: float):
    """``max(v, 0)``, rounded over about ``k``."""
    return k * np.logaddexp(0.0, np.asarray(v) / k)


class Terrain:
    """The demo town's ground; ``rng`` draws the micro-relief only."""

    N_WAVES = 10

    def __init__(self, plan: Plan, rng: np.random.Generator):
        self.p = plan
        lam = rng.uniform(120.0, 420.0, self.N_WAVES)
        ang = rng.uniform(0.0, np.pi, self.N_WAVES)
        self._kx = 2 * np.pi / lam * np.cos(ang)
        self._ky = 2 * np.pi / lam * np.sin(ang)
        self._phase = rng.uniform(0.0, 2 * np.pi, self.N_WAVES)
        self._amp = 0.03 * lam / 200.0
        # the pond's level: just below the lowest point of its rim
        a, b = plan.pond_axes
        t = np.linspace(0, 2 * np.pi, 720, endpoint=False)
        ca, sa = np.cos(plan.pond_angle), np.sin(plan.pond_angle)
        rx = plan.pond[0] + a * np.cos(t) * ca - b * np.sin(t) * sa
        ry = plan.pond[1] + a * np.cos(t) * sa + b * np.sin(t) * ca
        self.pond_level = float(np.min(self._before_pond(rx, ry))) - 0.25

    # -- terms ------------------------------------------------------------------------------------
    def hill_fraction(self, x):
        p = self.p
        t = np.clip((p.hill_foot - np.asarray(x)) / (p.hill_foot - p.hill_top), 0.0, 1.0)
        return 0.5 * (1.0 - np.cos(np.pi * t))

    def valley(self, x, y):
        """Altitude of the valley without the river channel, the pond and the micro-relief [m]."""
        p = self.p
        x = np.asarray(x, dtype=np.float64)
        wl = p.river_level(y)
        rx = p.river_x(y)
        u = x - rx
        half = p.river_width / 2
        # west bank: floodplain rising to the scarp foot, the scarp, the terrace, the hill
        bank_w = rx - half
        scarp_foot = p.scarp_x0 + p.scarp_width
        fp = 1.3 * np.clip((bank_w - x) / np.maximum(bank_w - scarp_foot, 1.0), 0.0, 1.0)
        scarp = p.scarp_height * smoothstep((scarp_foot - x) / p.scarp_width)
        terrace = p.terrace_slope * softplus(p.scarp_x0 - x, 10.0)
        hill = p.hill_height * self.hill_fraction(x)
        west = 0.9 + fp + scarp + terrace + hill
        # east bank: a narrower floodplain, then a gentle rise to the eastern terrace
        S = p.size
        e = u - half
        east = 0.9 + 1.0 * np.clip(e / (0.07 * S), 0.0, 1.0) + 2.5 * smoothstep((e - 0.07 * S) / (0.1 * S))
        return wl + np.where(u < 0, west, east)

    def micro_relief(self, x, y):
        """A low, smooth relief: a sum of plane waves (120-420 m), stronger on the hillside [m]."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim == 2 and y.ndim == 2 and x.shape[0] == 1 and y.shape[1] == 1:
            # on a grid, sin(kx x + ky y + ph) = sin(kx x) cos(ky y + ph) + cos(kx x) sin(ky y + ph): one matrix product
            ax = np.outer(self._kx, x[0])
            by = np.outer(y[:, 0], self._ky) + self._phase
            left = np.concatenate([np.cos(by), np.sin(by)], axis=1)
            right = np.concatenate([self._amp[:, None] * np.sin(ax), self._amp[:, None] * np.cos(ax)], axis=0)
            out = left @ right
        else:
            out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
            for kx, ky, ph, a in zip(self._kx, self._ky, self._phase, self._amp):
                out = out + a * np.sin(kx * x + ky * y + ph)
        return out * (1.0 + 4.0 * self.hill_fraction(x))

    def depression(self, x, y):
        p = self.p
        dx = np.asarray(x) - p.depression[0]
        dy = np.asarray(y) - p.depression[1]
        return -p.depression_depth * np.exp(-(dx * dx + dy * dy) / (2 * p.depression_sigma ** 2))

    def _before_pond(self, x, y):
        p = self.p
        z = self.valley(x, y) + self.micro_relief(x, y) + self.depression(x, y)
        d = p.across(x, y)
        half = p.river_width / 2
        ad = np.abs(d)
        inside = np.clip(1.0 - (ad / half) ** 2, 0.0, None)
        channel = p.river_level(y) - p.river_depth * inside + 0.4 * np.clip(ad - half, 0.0, None)
        return smooth_min(z, channel, 0.3)

    def pond_radius(self, x, y):
        """Elliptic radius from the pond's centre (1 on the design shore)."""
        p = self.p
        a, b = p.pond_axes
        ca, sa = np.cos(p.pond_angle), np.sin(p.pond_angle)
        dx = np.asarray(x) - p.pond[0]
        dy = np.asarray(y) - p.pond[1]
        u = dx * ca + dy * sa
        v = -dx * sa + dy * ca
        return np.sqrt((u / a) ** 2 + (v / b) ** 2)

    def elevation(self, x, y):
        """The bare-earth altitude at local points ``(x, y)`` [m NGF-IGN69] (broadcasts, float64)."""
        z = self._before_pond(x, y)
        r = self.pond_radius(x, y)
        bed = self.pond_level - 1.6 + 1.6 * r * r
        return smooth_min(z, bed, 0.3)
