"""Package list: the library plus every plugin folder, installed as ``neurovision_plugins.<kind>.<id>``."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
packages = find_packages(include=["neurovision", "neurovision.*"])
package_dir = {}
for kind in ("models", "tasks", "benchmarks"):
    if not (HERE / kind).is_dir():
        continue
    packages.append(f"neurovision_plugins.{kind}")
    package_dir[f"neurovision_plugins.{kind}"] = kind
    for folder in sorted((HERE / kind).iterdir()):
        if (folder / "__init__.py").is_file():
            name = f"neurovision_plugins.{kind}.{folder.name}"
            packages.append(name)
            package_dir[name] = f"{kind}/{folder.name}"

setup(packages=packages, package_dir=package_dir)
