"""Runtime settings, read from the environment (prefix YUTANG_) when create_settings() is called."""

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Everything the app, CLI and jobs need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="YUTANG_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the OLTP store; default a SQLite file in data_dir."
    )
    warehouse_url: str | None = Field(
        default=None,
        description="duckdb:///path/file.duckdb or postgresql://…; default a DuckDB file beside the SQLite file.",
    )
    secret_key: str = Field(
        default="dev-only-secret-change-me",
        description="Keys the phone/email HMAC and the sealing of messaging secrets.",
    )
    default_timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    assets_dir: Path | None = Field(
        default=None, description="Where the npm front-end packages live; default ./node_modules."
    )
    sql_echo: bool = False

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @property
    def resolved_database_url(self) -> str:
        """The OLTP URL, defaulting to a SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yutang.sqlite3').resolve()}"

    @property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a DuckDB file under data_dir."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb:///{(self.data_dir / 'warehouse.duckdb').resolve()}"

    @property
    def resolved_assets_dir(self) -> Path:
        """Directory holding the installed npm packages served under /static/vendor."""
        return self.assets_dir or Path("node_modules").resolve()


def create_settings(**overrides) -> Settings:
    """Read settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)
