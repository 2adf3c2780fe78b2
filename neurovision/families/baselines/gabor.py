"""``baseline-gabor-v1``: a fixed V1-like model (Gabor energy, divisive normalisation, pooling).

Default geometry: the model sees 8 deg (Brain-Score's default) on a 120 x 120 px grayscale
input, 15 px/deg. In contrast units ``c = (I - 0.5) / 0.5`` (0 = the gray screen):

1. **Gabor quadrature bank**: 4 spatial frequencies 0.5, 1, 2, 4 cycles/deg x 8 orientations
   (0, 22.5, ..., 157.5 deg), even (cos) and odd (sin) phase. Envelopes are circular Gaussians
   with a 1-octave frequency bandwidth, ``sigma = 0.562 / f`` deg: 1.12, 0.56, 0.28, 0.14 deg
   (receptive-field FWHM ``2.355 sigma``: 2.65, 1.32, 0.66, 0.33 deg). The even filter has its
   DC removed; each pair is scaled so that a grating of contrast ``c`` at the preferred
   frequency and orientation gives energy ``c``.
2. **Complex-cell energy** ``E = sqrt(even^2 + odd^2)`` (phase-invariant).
3. **Divisive normalisation** ``R = E / (c50 + P)``: ``P`` is ``E`` averaged over the 8
   orientations of the same scale and over a Gaussian neighbourhood of ``sigma_pool = 2 sigma``
   (normalised convolution, so the screen edge does not lower it); ``c50 = 0.1``. For a full-field
   grating ``R < E / mean_orientation(E)``, whatever its contrast.
4. **Pooling**: ``R`` is averaged over a 5 x 5 grid of 1.6-deg cells: 32 channels x 5 x 5 =
   800 features.
5. The leaky temporal filter of :mod:`.temporal` (``tau = 20`` ms, ``dt = 2`` ms).

Filtering runs as one FFT product per image and scale on a zero-padded (gray) canvas that
leaves ``4 max(1, pool_factor)`` envelope sigmas of margin, so no filter wraps around; smaller
scales use smaller canvases (256, 192, 160 and 144 px at the default size).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...brain.presentation import GRAY
from .temporal import LeakyFeatureModel

def sigma_deg(frequency: float, octaves: float = 1.0) -> float:
    """Envelope sigma (deg) of a Gabor of ``frequency`` cycles/deg and ``octaves`` bandwidth."""
    b = 2.0 ** octaves
    return math.sqrt(math.log(2) / 2) / math.pi * (b + 1) / (b - 1) / frequency


def _offsets(size: int) -> torch.Tensor:
    """Signed pixel offsets of an FFT grid of ``size``: 0, 1, ..., -2, -1."""
    return torch.fft.fftfreq(size, 1.0 / size, dtype=torch.float64)


def gabor_spectra(size: int, frequencies_px, orientations, octaves: float = 1.0) -> torch.Tensor:
    """FFTs (S*O, size, size) of complex Gabors centred at pixel (0, 0) of a ``size`` grid.

    ``frequencies_px`` in cycles/px, orientations in radians (the direction of the carrier's
    wave vector). The real part of each filter is DC-free; its gain is 2 / |G(k0)| so that a
    grating at the preferred frequency and orientation gives a response of modulus equal to
    its amplitude.
    """
    y, x = torch.meshgrid(_offsets(size), _offsets(size), indexing="ij")
    filters = []
    for f in frequencies_px:
        sigma = sigma_deg(f, octaves)  # the same formula holds per pixel
        envelope = torch.exp(-(x ** 2 + y ** 2) / (2 * sigma ** 2))
        for theta in orientations:
            phase = 2 * math.pi * f * (x * math.cos(theta) + y * math.sin(theta))
            carrier = torch.exp(1j * phase)
            dc = (envelope * carrier).sum() / envelope.sum()
            g = envelope * (carrier - dc.real)
            gain = (g * torch.exp(-1j * phase)).sum().abs() / 2
            filters.append(g / gain)
    return torch.fft.fft2(torch.stack(filters)).to(torch.complex64)


def gaussian_spectra(size: int, sigmas_px) -> torch.Tensor:
    """Real-input FFTs (S, size, size // 2 + 1) of unit-sum Gaussians centred at pixel (0, 0)."""
    y, x = torch.meshgrid(_offsets(size), _offsets(size), indexing="ij")
    kernels = [torch.exp(-(x ** 2 + y ** 2) / (2 * s ** 2)) for s in sigmas_px]
    return torch.fft.rfft2(torch.stack([k / k.sum() for k in kernels])).to(torch.complex64)


class GaborV1(LeakyFeatureModel):
    """Gabor energy -> divisive normalisation -> pooling -> leaky filter (see the module doc).

    ``size``: input side (px) over ``visual_degrees``; ``frequencies`` in cycles/deg;
    ``n_orientations`` evenly spaced over 180 deg; ``octaves``: frequency bandwidth;
    ``pool_factor``: normalisation pool sigma in envelope sigmas; ``c50``: semi-saturation
    contrast; ``grid``: output positions per side; ``tau``, ``dt`` in ms.
    """

    areas = ("v1",)

    def __init__(self, size: int = 120, visual_degrees: float = 8.0,
                 frequencies=(0.5, 1.0, 2.0, 4.0), n_orientations: int = 8, octaves: float = 1.0,
                 pool_factor: float = 2.0, c50: float = 0.1, grid: int = 5,
                 tau: float = 20.0, dt: float = 2.0):
        super().__init__((1, int(size), int(size)), visual_degrees, tau, dt)
        self.frequencies = tuple(float(f) for f in frequencies)
        nyquist = self.px_per_degree / 2
        if min(self.frequencies) <= 0 or max(self.frequencies) >= nyquist:
            raise ValueError(f"frequencies must lie in (0, {nyquist:g}) cycles/deg (the input's "
                             f"Nyquist limit at {self.px_per_degree:g} px/deg), got {self.frequencies}")
        if n_orientations < 1 or grid < 1 or c50 <= 0 or pool_factor <= 0 or octaves <= 0:
            raise ValueError("need n_orientations >= 1, grid >= 1, c50 > 0, pool_factor > 0, octaves > 0")
        self.orientations = tuple(math.pi * k / n_orientations for k in range(n_orientations))
        self.octaves, self.pool_factor, self.c50, self.grid = float(octaves), float(pool_factor), float(c50), int(grid)
        self.sigmas_deg = tuple(sigma_deg(f, octaves) for f in self.frequencies)
        sigmas_px = [s * self.px_per_degree for s in self.sigmas_deg]
        grids = [16 * math.ceil((int(size) + math.ceil(4 * s * max(1.0, pool_factor))) / 16) for s in sigmas_px]
        self.fft_size, self.scale_fft_sizes = max(grids), tuple(grids)
        for k, (f, grid) in enumerate(zip(self.frequencies, grids)):
            self.register_buffer(f"gabors{k}", gabor_spectra(grid, [f / self.px_per_degree], self.orientations, octaves),
                                 persistent=False)
        self.register_buffer("pools", gaussian_spectra(self.fft_size, [pool_factor * s for s in sigmas_px]),
                             persistent=False)
        self.register_buffer("cover", self._blur(torch.ones(1, 1, int(size), int(size)))[0], persistent=False)
        self.set_blank()

    @property
    def n_channels(self) -> int:
        return len(self.frequencies) * len(self.orientations)

    def receptive_fields(self) -> list[dict]:
        """Per scale: frequency (cycles/deg), envelope sigma, FWHM and pool sigma (deg)."""
        fwhm = 2 * math.sqrt(2 * math.log(2))
        return [{"frequency_cpd": f, "sigma_deg": s, "fwhm_deg": fwhm * s, "pool_sigma_deg": self.pool_factor * s}
                for f, s in zip(self.frequencies, self.sigmas_deg)]

    def quadrature(self, images: torch.Tensor, scale: int) -> torch.Tensor:
        """Responses ``even + i odd`` (B, O, H, W) of scale ``scale``'s Gabors to images (B, 1, H, W)."""
        size, grid = self.input_shape[-1], self.scale_fft_sizes[scale]
        spectrum = torch.fft.fft2((images[:, :1] - GRAY) / GRAY, s=(grid, grid))  # zero (gray) padded
        gabors = getattr(self, f"gabors{scale}")
        # one orientation at a time: the canvas-sized blocks stay small (a quarter of the peak
        # memory of all orientations at once, at the same speed)
        return torch.cat([torch.fft.ifft2(spectrum * gabors[o:o + 1])[..., :size, :size] for o in range(len(gabors))],
                         dim=1)

    def energy(self, images: torch.Tensor) -> torch.Tensor:
        """Complex-cell energy (B, S*O, H, W) of images (B, 1, H, W) in [0, 1]."""
        return torch.cat([self.quadrature(images, k).abs() for k in range(len(self.frequencies))], dim=1)

    def _blur(self, maps: torch.Tensor) -> torch.Tensor:
        """Maps (B, S or 1, H, W) blurred by each scale's pool Gaussian, zero outside the screen."""
        size, grid = self.input_shape[-1], (self.fft_size, self.fft_size)
        return torch.fft.irfft2(torch.fft.rfft2(maps, s=grid) * self.pools, s=grid)[..., :size, :size]

    def normalise(self, energy: torch.Tensor) -> torch.Tensor:
        """``E / (c50 + P)``, P the orientation and Gaussian-neighbourhood mean of each scale.

        The neighbourhood mean is a normalised convolution (blurred energy / blurred screen
        mask), so positions near the screen's edge average only what is on screen.
        """
        b, _, h, w = energy.shape
        per_scale = energy.view(b, len(self.frequencies), len(self.orientations), h, w)
        pool = (self._blur(per_scale.mean(2)) / self.cover).clamp_min(0.0)
        return (per_scale / (self.c50 + pool[:, :, None])).view(b, -1, h, w)

    def features(self, images: torch.Tensor, chunk: int = 4) -> torch.Tensor:
        """Pooled normalised energy (B, S*O, grid, grid), ``chunk`` images at a time (a chunk's
        canvas-sized spectra take 0.5 MB per image and orientation at the default size)."""
        out = images.new_empty(len(images), self.n_channels, self.grid, self.grid)
        for i in range(0, len(images), chunk):  # written in place: no small blocks left between large ones
            out[i:i + chunk] = F.adaptive_avg_pool2d(self.normalise(self.energy(images[i:i + chunk])), self.grid)
        return out
