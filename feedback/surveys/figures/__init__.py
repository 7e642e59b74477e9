"""What every figure means and is restricted to, for the two layers that read figures
(feedback.insights and feedback.reporting, which may not import each other's rules): the
filters and their Q (`filters`), what a request may ask (`query`), a score over answers and
its SQL aggregates (`scores`)."""
