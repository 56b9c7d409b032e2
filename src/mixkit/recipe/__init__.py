"""The recipe: schema, loading, and `mixkit validate` (every error at once, with key paths)."""

from mixkit.recipe.load import load_recipe, validate_recipe
from mixkit.recipe.schema import CurateConfig, Recipe, SourceConfig

__all__ = ["CurateConfig", "Recipe", "SourceConfig", "load_recipe", "validate_recipe"]
