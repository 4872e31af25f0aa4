"""Migration operations the ORM has no field option for."""

from django.db import migrations


class DropPatternIndex(migrations.operations.base.Operation):
    """Drop the `<table>_<column>_<hash>_like` index (varchar_pattern_ops) that Django's
    PostgreSQL backend adds beside every indexed or unique character column, primary keys
    included. It serves only `LIKE 'prefix%'` lookups; for generated ids nothing makes those,
    while every INSERT (and every update that cannot be HOT) writes it. A later AlterField of
    the column recreates it; such a migration must drop it again. A no-op on other databases.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name
        self.field_name = field_name

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.field_name], {}

    def state_forwards(self, app_label, state):
        pass  # the model state has no trace of pattern indexes

    def _model_field(self, app_label, state):
        model = state.apps.get_model(app_label, self.model_name)
        return model, model._meta.get_field(self.field_name)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model, field = self._model_field(app_label, to_state)
        # The name Django gave the index (schema_editor._create_like_index_sql names it so).
        name = schema_editor._create_index_name(model._meta.db_table, [field.column], "_like")
        schema_editor.execute(schema_editor._delete_index_sql(model, name))  # IF EXISTS

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model, field = self._model_field(app_label, to_state)
        statement = schema_editor._create_like_index_sql(model, field)
        if statement is not None:
            schema_editor.execute(statement)

    def describe(self):
        return f"Drop the LIKE pattern index of {self.model_name}.{self.field_name}"
