"""Privacy mechanisms for releasing aggregates to the agglomeration (pure: no I/O).

Three protections are applied together to every release (see :mod:`core.privacy.release`):

1. per-user contribution bounding (:mod:`core.privacy.contribution`), which fixes the sensitivity;
2. k-threshold suppression with complementary suppression (:mod:`core.privacy.suppression`);
3. differential-privacy noise calibrated by OpenDP (:mod:`core.privacy.noise`).
"""
