"""The transfer task's extra link in the Airflow UI: the stored video in its cloud console.

Built the way the official providers build theirs (``BaseAwsLink``): at run time the operator
``persist``\\ s what the link needs into XCom under the link's key; Airflow calls ``get_link`` on
the worker when the task ends and shows the result as a button on the task instance.

* ``s3://bucket/key``: the object in the AWS S3 console (an S3-compatible store behind an
  ``endpoint_url`` has no console of AWS's; the link then names an object AWS does not have);
* ``gs://bucket/key``: the object's page in the Google Cloud console;
* ``abfs://container/path``: the blob's URL on ``<account>.blob.core.windows.net`` when the
  storage connection names the account (the Azure portal's own pages need the subscription and
  resource group, which a storage connection does not carry);
* ``file://``: no link (nothing in a browser can open the worker's disk).

The vendors (MiniMax, DMXAPI, Modelverse) have no page per generation task in their consoles
(none is documented in their API documents), so the generate task has no vendor link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow_provider_hailuo.transfers.paths import Destination

S3_CONSOLE = "https://console.aws.amazon.com/s3/object/{bucket}?prefix={key}"
GCS_CONSOLE = "https://console.cloud.google.com/storage/browser/_details/{bucket}/{key}"
AZURE_BLOB = "https://{account}.blob.core.windows.net/{bucket}/{key}"


def console_url(scheme: str, bucket: str, key: str, account: str | None = None) -> str:
    """The browser URL of a stored object, or "" where there is none."""
    if scheme in ("s3", "s3a"):
        return S3_CONSOLE.format(bucket=quote(bucket, safe=""), key=quote(key, safe="/"))
    if scheme in ("gs", "gcs"):
        return GCS_CONSOLE.format(bucket=quote(bucket, safe=""), key=quote(key, safe="/"))
    if scheme in ("abfs", "abfss", "az") and account:
        return AZURE_BLOB.format(account=quote(account, safe=""), bucket=quote(bucket, safe=""),
                                 key=quote(key, safe="/"))
    return ""


def azure_account(conn_id: str | None) -> str | None:
    """The storage account an Azure connection names (login, or the host's first label), if any."""
    if not conn_id:
        return None
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
    except Exception:
        return None
    extra = connection.extra_dejson or {}
    account = extra.get("account_name") or connection.login or (connection.host or "").split(".")[0]
    return str(account) or None


class StoredVideoLink(BaseOperatorLink):
    """"Stored video": the object the transfer wrote, in its store's console."""

    name = "Stored video"
    key: ClassVar[str] = "hailuo_stored_video"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        conf = XCom.get_value(key=self.key, ti_key=ti_key)
        if not conf:
            return ""
        return console_url(conf["scheme"], conf["bucket"], conf["key"], conf.get("account"))

    @classmethod
    def persist(cls, context: Any, operator: Any, dest: Destination) -> None:
        """Store what the link needs; nothing for local files (and when XCom pushes are off)."""
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is None or dest.is_local or not getattr(operator, "do_xcom_push", True):
            return
        account = azure_account(dest.conn_id) if dest.scheme in ("abfs", "abfss", "az") else None
        ti.xcom_push(key=cls.key, value={"scheme": dest.scheme, "bucket": dest.bucket, "key": dest.key,
                                         "account": account})
