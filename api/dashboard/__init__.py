"""The mobility team's dashboard: HTML templates, static assets and their rendering helpers.

Front-end libraries (Chart.js, Leaflet) are installed by npm from ``package.json`` and copied to
``static/vendor/`` by ``infra/build-web.sh``; the routes are in :mod:`api.routes.dashboard`.
"""
