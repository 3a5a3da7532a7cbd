"""Version 1 of the REST API: the ``NinjaAPI`` instance and its routers (``urls.api``)."""
