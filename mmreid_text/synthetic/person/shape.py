# Copyright (c) mmreid_text contributors. All rights reserved.
"""The material map of a person: one label per pixel (skin, hair, upper
clothing, pattern, lower clothing, shoes, bag, cap, glasses, face details)
in a front, back or side view with a walking pose."""
from typing import Tuple

import numpy as np

from ..drawing import MaterialPainter, Point
from .attributes import PersonAttributes
from .pose import Pose

# material labels of the material map
BG, SKIN, HAIR, UPPER, ACCENT, LOWER, SHOES, BAG, HAT, GLASSES, FACE = range(
    11)
NUM_MATERIALS = 11


class _Painter(MaterialPainter):
    """Draws body parts in body units (``u`` across, ``v`` down, both in
    person heights; ``v = 0`` at the top of the head)."""

    def __init__(self, img_size: Tuple[int, int], centre_x: float,
                 foot_y: float, height: float) -> None:
        super().__init__(img_size, centre_x, foot_y - height, height, height)

    def limb(self, p0: Point, p1: Point, r0: float, r1: float,
             material: int) -> None:
        """A tapered segment with round ends from ``p0`` to ``p1``."""
        (u0, v0), (u1, v1) = p0, p1
        du, dv = u1 - u0, v1 - v0
        length = max((du * du + dv * dv)**0.5, 1e-6)
        nu, nv = -dv / length, du / length
        self.polygon([(u0 + nu * r0, v0 + nv * r0),
                      (u1 + nu * r1, v1 + nv * r1),
                      (u1 - nu * r1, v1 - nv * r1),
                      (u0 - nu * r0, v0 - nv * r0)], material)
        self.ellipse(u0, v0, r0, r0, material)
        self.ellipse(u1, v1, r1, r1, material)


def _lerp(p0: Point, p1: Point, t: float) -> Point:
    return (p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t)


def _draw_leg(p: _Painter, ident: PersonAttributes, hip: Point, knee: Point,
              ankle: Point, r: float) -> None:
    """Leg as skin, covered by trousers / shorts as the identity wears."""
    p.limb(hip, knee, r, r * 0.85, SKIN)
    p.limb(knee, ankle, r * 0.85, r * 0.65, SKIN)
    if ident.lower_type == 'trousers':
        p.limb(hip, knee, r * 1.1, r * 0.95, LOWER)
        p.limb(knee, ankle, r * 0.95, r * 0.8, LOWER)
    elif ident.lower_type == 'shorts':
        p.limb(hip, _lerp(hip, knee, 0.75), r * 1.15, r * 1.05, LOWER)


def _draw_arm(p: _Painter, ident: PersonAttributes, shoulder: Point,
              elbow: Point, wrist: Point, r: float) -> None:
    """Arm as skin, sleeves in the upper garment, hand at the wrist."""
    p.limb(shoulder, elbow, r, r * 0.85, SKIN)
    p.limb(elbow, wrist, r * 0.85, r * 0.7, SKIN)
    hand = (wrist[0], wrist[1] + 0.035)
    p.ellipse(hand[0], hand[1], r * 0.75, 0.03, SKIN)
    if ident.upper_type == 't-shirt':
        p.limb(shoulder, _lerp(shoulder, elbow, 0.55), r * 1.15, r * 1.05,
               UPPER)
    else:
        thick = 1.25 if ident.upper_type in ('jacket', 'coat') else 1.1
        p.limb(shoulder, elbow, r * thick, r * 0.95 * thick, UPPER)
        p.limb(elbow, wrist, r * 0.95 * thick, r * 0.8 * thick, UPPER)


def _draw_head(p: _Painter, ident: PersonAttributes, view: str) -> None:
    """Neck, head, hair, face details, glasses and cap."""
    side = view == 'side'
    p.rect(-0.022, 0.1, 0.022, 0.17, SKIN)
    head_u = 0.008 if side else 0.0
    p.ellipse(head_u, 0.068, 0.046, 0.064, SKIN)
    long_hair = ident.hair_length == 'long'
    if view == 'front':
        p.ellipse(0, 0.06, 0.051, 0.062, HAIR)
        p.ellipse(0, 0.082, 0.042, 0.052, SKIN)
        if long_hair:
            for sign in (-1, 1):
                p.polygon([(sign * 0.036, 0.05), (sign * 0.054, 0.05),
                           (sign * 0.062, 0.23), (sign * 0.04, 0.23)], HAIR)
        p.ellipse(-0.017, 0.074, 0.007, 0.005, FACE)
        p.ellipse(0.017, 0.074, 0.007, 0.005, FACE)
        p.rect(-0.012, 0.103, 0.012, 0.108, FACE)
        if ident.glasses:
            p.rect(-0.031, 0.066, -0.005, 0.083, GLASSES, 0.004)
            p.rect(0.005, 0.066, 0.031, 0.083, GLASSES, 0.004)
            p.rect(-0.006, 0.07, 0.006, 0.074, GLASSES)
    elif view == 'back':
        p.ellipse(0, 0.058, 0.05, 0.062 if not long_hair else 0.07, HAIR)
        if long_hair:
            p.polygon([(-0.05, 0.06), (0.05, 0.06), (0.058, 0.24),
                       (-0.058, 0.24)], HAIR)
    else:  # side, facing +u
        p.ellipse(0.052, 0.08, 0.01, 0.012, SKIN)  # nose
        p.ellipse(-0.006, 0.058, 0.048, 0.06, HAIR)
        p.ellipse(0.024, 0.084, 0.03, 0.048, SKIN)
        if long_hair:
            p.polygon([(-0.05, 0.06), (-0.012, 0.06), (-0.02, 0.24),
                       (-0.058, 0.24)], HAIR)
        p.ellipse(0.034, 0.073, 0.006, 0.005, FACE)
        if ident.glasses:
            p.rect(0.024, 0.065, 0.048, 0.082, GLASSES, 0.004)
            p.line([(0.025, 0.071), (-0.01, 0.071)], 0.006, GLASSES)
    if ident.hat:
        p.ellipse(head_u, 0.032, 0.052, 0.036, HAT)
        p.rect(-0.052 + head_u, 0.032, 0.052 + head_u, 0.05, HAT)
        if view == 'front':
            p.rect(-0.05, 0.044, 0.05, 0.056, HAT, 0.006)
        elif view == 'side':
            p.rect(0.02, 0.042, 0.09, 0.054, HAT, 0.006)


def _draw_frontal(p: _Painter, ident: PersonAttributes, pose: Pose) -> None:
    """Front or back view."""
    back = pose.view == 'back'
    wf = ident.width_factor
    man = ident.gender == 'man'
    shoulder = (0.118 if man else 0.102) * wf
    waist = (0.09 if man else 0.078) * wf
    hip = (0.088 if man else 0.1) * wf
    leg_r = 0.036 * wf
    stride = pose.stride
    # legs
    for sign in (-1, 1):
        lift = 0.018 * max(0.0, sign * stride)
        hip_pt = (sign * (hip - leg_r), 0.52)
        ankle = (sign * (hip - leg_r + 0.012), 0.93 - lift)
        knee = _lerp(hip_pt, ankle, 0.5)
        _draw_leg(p, ident, hip_pt, knee, ankle, leg_r)
        p.ellipse(ankle[0], ankle[1] + 0.035, leg_r * 1.1, 0.028, SHOES)
    if ident.lower_type in ('trousers', 'shorts'):
        p.polygon([(-waist, 0.46), (waist, 0.46), (hip, 0.56), (-hip, 0.56)],
                  LOWER)
    else:  # skirt
        p.polygon([(-waist, 0.46), (waist, 0.46), (hip * 1.45, 0.72),
                   (-hip * 1.45, 0.72)], LOWER)
    # torso
    coat = ident.upper_type == 'coat'
    bottom = 0.7 if coat else 0.5
    flare = 1.3 if coat else 1.0
    p.polygon([(-shoulder, 0.165), (shoulder, 0.165), (waist, 0.36),
               (hip * flare, bottom), (-hip * flare, bottom), (-waist, 0.36)],
              UPPER)
    p.ellipse(-shoulder + 0.02, 0.18, 0.03, 0.022, UPPER)
    p.ellipse(shoulder - 0.02, 0.18, 0.03, 0.022, UPPER)
    if ident.upper_pattern == 'logo':
        p.ellipse(0, 0.27, 0.032 * wf, 0.028, ACCENT)
    # arms
    arm_r = 0.026 * wf
    for sign in (-1, 1):
        swing = 0.01 * sign * stride
        sh = (sign * (shoulder - 0.016), 0.185)
        el = (sign * (shoulder + 0.006), 0.33 + swing)
        wr = (sign * (shoulder + 0.0), 0.46 + swing)
        _draw_arm(p, ident, sh, el, wr, arm_r)
    if back and ident.carried_item == 'backpack':
        p.rect(-0.078 * wf, 0.19, 0.078 * wf, 0.43, BAG, 0.02)
        p.rect(-0.06 * wf, 0.33, 0.06 * wf, 0.41, BAG, 0.012)
    _draw_head(p, ident, pose.view)
    if ident.carried_item == 'backpack' and not back:
        for sign in (-1, 1):
            p.line([(sign * (shoulder - 0.035), 0.165),
                    (sign * (shoulder - 0.045), 0.4)], 0.016, BAG)
    elif ident.carried_item == 'shoulder bag':
        # strap across the chest, bag on the hip opposite the strap's shoulder
        sign = -1 if back else 1
        p.line([(-sign * (shoulder - 0.03), 0.17), (sign * (hip + 0.03), 0.5)],
               0.012, BAG)
        inner, outer = sign * (hip - 0.02), sign * (hip + 0.075)
        p.rect(min(inner, outer), 0.47, max(inner, outer), 0.58, BAG, 0.012)
    elif ident.carried_item == 'handbag':
        # held in the same hand as seen from the front or from behind
        u = -shoulder if back else shoulder
        p.rect(u - 0.035, 0.5, u + 0.04, 0.59, BAG, 0.01)
        p.line([(u - 0.02, 0.5), (u, 0.47), (u + 0.025, 0.5)], 0.008, BAG)


def _draw_side(p: _Painter, ident: PersonAttributes, pose: Pose) -> None:
    """Side view, walking towards ``+u``."""
    wf = ident.width_factor
    man = ident.gender == 'man'
    depth = (0.068 if man else 0.064) * wf
    leg_r = 0.036 * wf
    stride = pose.stride
    if ident.carried_item == 'backpack':
        p.rect(-depth - 0.075, 0.18, -depth + 0.03, 0.43, BAG, 0.02)
    # far leg first, then near leg
    for sign in (-1, 1):
        hip_pt = (0.0, 0.52)
        foot_u = sign * 0.1 * stride
        ankle = (foot_u, 0.93 - 0.012 * abs(stride))
        knee = (foot_u * 0.5 + 0.025 * abs(stride), 0.73)
        _draw_leg(p, ident, hip_pt, knee, ankle, leg_r)
        p.ellipse(ankle[0] + 0.018, ankle[1] + 0.037, 0.05, 0.024, SHOES)
    if ident.lower_type in ('trousers', 'shorts'):
        p.polygon([(-0.06 * wf, 0.46), (0.058 * wf, 0.46), (0.062 * wf, 0.57),
                   (-0.062 * wf, 0.57)], LOWER)
    else:
        p.polygon([(-0.06 * wf, 0.46), (0.058 * wf, 0.46), (0.11, 0.72),
                   (-0.1, 0.72)], LOWER)
    coat = ident.upper_type == 'coat'
    bottom = 0.7 if coat else 0.5
    chest = depth * (1.08 if not man else 1.0)
    p.polygon([(-depth + 0.008, 0.165), (depth - 0.012, 0.165), (chest, 0.26),
               (depth - 0.008, 0.4),
               (0.064 * wf * (1.3 if coat else 1.0), bottom),
               (-0.064 * wf * (1.3 if coat else 1.0), bottom),
               (-depth + 0.004, 0.35)], UPPER)
    if ident.upper_pattern == 'logo':
        p.ellipse(depth * 0.55, 0.27, 0.02, 0.026, ACCENT)
    arm_r = 0.026 * wf
    swing = -stride
    sh = (0.0, 0.19)
    el = (0.05 * swing, 0.33)
    wr = (0.1 * swing, 0.46)
    _draw_arm(p, ident, sh, el, wr, arm_r)
    _draw_head(p, ident, 'side')
    if ident.carried_item == 'backpack':
        p.line([(-depth + 0.01, 0.2), (-0.005, 0.165), (0.02, 0.2),
                (0.025, 0.38)], 0.014, BAG)
    elif ident.carried_item == 'shoulder bag':
        p.line([(-0.015, 0.17), (0.02, 0.48)], 0.012, BAG)
        p.rect(-0.045, 0.47, 0.06, 0.58, BAG, 0.012)
    elif ident.carried_item == 'handbag':
        u = wr[0]
        p.rect(u - 0.04, 0.5, u + 0.04, 0.59, BAG, 0.01)
        p.line([(u - 0.025, 0.5), (u, 0.47), (u + 0.025, 0.5)], 0.008, BAG)


def draw_material_map(identity: PersonAttributes, pose: Pose,
                      img_size: Tuple[int, int]) -> np.ndarray:
    """Material labels ``[H, W]`` uint8 of one frame (0 = background)."""
    h, w = img_size
    mirrored = pose.view == 'side' and pose.facing < 0
    centre_x = (w - 1 - pose.centre_x) if mirrored else pose.centre_x
    painter = _Painter(img_size, centre_x, pose.foot_y, pose.height)
    if pose.view == 'side':
        _draw_side(painter, identity, pose)
    else:
        _draw_frontal(painter, identity, pose)
    labels = painter.labels(mirrored)
    if identity.upper_pattern in ('stripes', 'checks'):
        period = max(4, int(round(0.034 * pose.height)))
        half = period // 2
        ys, xs = np.mgrid[0:h, 0:w]
        top = int(pose.foot_y - pose.height)
        bands = ((ys - top) // half) % 2
        if identity.upper_pattern == 'checks':
            cols = ((xs - int(pose.centre_x) + 10 * period) // half) % 2
            bands = bands ^ cols
        labels[(labels == UPPER) & (bands == 1)] = ACCENT
    return labels
