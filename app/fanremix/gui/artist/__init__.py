"""Artist mode: build and sign stem packs, write their policy, preview what fans can do, publish and review.

`ArtistWindow` (window.py) holds four pages: `PackBuilder` (builder.py), `PolicyEditor` (policy_editor.py),
`FanPreviewPage` (preview.py) and `PublishReviewPage` (review.py). The Qt-free work is in `fanremix.artist`.
"""
