"""Request and response models: what clients may send and what they get back.

They are separate from the tables in ``qc_service.store.models`` so that no client
can set an internal field, and they generate the OpenAPI document.
"""
