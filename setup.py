"""Packaging: the repository's top-level engine folders install as subpackages of ``hub``.

``sources/``, ``models/``, ``reverse_etl/`` and ``warehouse/`` become ``hub.sources``, ``hub.models`` and so on in the
wheel (``package_dir``), so hub never puts generic top-level packages into site-packages. Everything else is in
pyproject.toml.
"""

from setuptools import find_packages, setup

ENGINE_FOLDERS = ("sources", "models", "reverse_etl", "warehouse")

packages = ["hub", *(f"hub.{name}" for name in find_packages("hub"))]
package_dir = {"hub": "hub"}
for folder in ENGINE_FOLDERS:
    packages += [f"hub.{folder}", *(f"hub.{folder}.{name}" for name in find_packages(folder))]
    package_dir[f"hub.{folder}"] = folder

DATA = ["*.sql", "**/*.sql", "**/*.md", "**/*.json", "**/*.html", "**/*.css", "**/*.js", "**/*.toml"]

setup(packages=packages, package_dir=package_dir, package_data={name: DATA for name in packages},
      include_package_data=True)
