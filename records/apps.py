from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import workspace_created
        from records.services import seed_vendor_modules

        workspace_created.connect(
            lambda sender, workspace, **kw: seed_vendor_modules(workspace=workspace),
            weak=False,
            dispatch_uid="records.seed_vendor_modules",
        )
