"""Campaigns: photo frames made on the server under an overlay, post-URL submissions and their review.

`schema` (shapes, settings, placement, caption), `photos` (the frame: decode, crop, composite),
`overlays` (overlays in object storage), `posts` (accepted post URLs), `records` (the database
side) and `stats` (figures and the CSV export). Pure domain: no web, no Prefect.
"""
