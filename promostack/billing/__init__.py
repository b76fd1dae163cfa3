"""Revenue from Stripe: the mirror of Stripe's objects, webhook events, MRR, movements, rebills.

Stripe is the source of truth. `mirror` writes Stripe's objects into the database (an older
state never overwrites a newer one), `events` stores and applies webhook events, `mrr`,
`movements` and `rebills` compute the figures from plain values, `stripe_api` reads Stripe
(paging with a resumable cursor, backing off on rate limits), and `dashboard` answers the
Revenue page from the mirror alone.
"""
