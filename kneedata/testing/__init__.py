"""Public test helpers: tools for building test inputs, not part of the analysis.

- :mod:`kneedata.testing.fitwrite`: a small, correct FIT encoder
  (:class:`~kneedata.testing.fitwrite.FitWriter`,
  :func:`~kneedata.testing.fitwrite.write_activity_fit`) used to build the sample
  runner and hand-made FIT files whose answers are known. Use it in your own tests
  to write FIT files with exactly the samples, laps, sessions and damage you need.

Nothing in :mod:`kneedata` outside this package imports it.
"""
