"""What the wheel carries matches what the code looks for, so `monitor demo` works from an installed package."""

import tomllib

from monitor import config
from tests.conftest import ROOT


def test_bundled_resources_are_mapped_where_resource_path_looks():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    data_root = config.RESOURCE_ROOTS[0].relative_to(config.PACKAGE_DIR.parent).as_posix()
    for source, target in mapping.items():
        assert (ROOT / source).exists(), source
        assert target == f"{data_root}/{source}", (source, target)
    for needed in ("config/settings.toml", "config/regions.toml", "config/topics.toml", "warehouse/migrations/001_initial.sql",
                   "warehouse/views.sql"):
        assert any(needed == s or needed.startswith(s + "/") for s in mapping), needed
        assert config.resource_path(needed).exists()
