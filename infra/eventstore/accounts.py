"""Companies (a Jurnal credential, sealed; the package; the quota of settings) and Moka
connections (a business's tokens, sealed, and its outlets), with the index streams that list
them. Secrets are sealed on the way in and unsealed only through `jurnal_credentials` and
`moka_tokens`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from domain.errors import CompanyNotFound, MokaConnectionNotFound
from domain.settings import DEFAULT_QUOTA, Company, JurnalPackage, MokaConnection
from infra.eventstore.base import StoreBase
from infra.eventstore.results import JurnalCredentials, MokaTokens
from infra.eventstore.streams import companies_index_id, connections_index_id


class Accounts(StoreBase):
    # -- companies --------------------------------------------------------------------------

    def register_company(
        self,
        *,
        name: str,
        jurnal_client_id: str,
        jurnal_client_secret: str,
        package: JurnalPackage | str,
        quota: int = DEFAULT_QUOTA,
    ) -> UUID:
        company = Company.register(
            name=name,
            jurnal_client_id=jurnal_client_id,
            jurnal_client_secret=self.secrets.seal(jurnal_client_secret),
            package=package,
            quota=quota,
        )

        def attempt() -> UUID:
            listed = self._index_change(companies_index_id(), company.id, present=True)
            self.save(company, listed)
            return company.id

        return self._retrying(attempt)

    def get_company(self, company_id: UUID) -> Company:
        return self._get(company_id, Company, CompanyNotFound)

    def list_companies(self) -> list[Company]:
        return [self.get_company(i) for i in self._index_members(companies_index_id())]

    def set_quota(self, company_id: UUID, quota: int) -> None:
        self._update(company_id, Company, CompanyNotFound, lambda c: c.set_quota(quota))

    def record_package(self, company_id: UUID, package: JurnalPackage | str) -> None:
        self._update(company_id, Company, CompanyNotFound, lambda c: c.record_package(package))

    def change_jurnal_credentials(
        self, company_id: UUID, *, jurnal_client_id: str, jurnal_client_secret: str
    ) -> None:
        sealed = self.secrets.seal(jurnal_client_secret)
        self._update(
            company_id,
            Company,
            CompanyNotFound,
            lambda c: c.change_credentials(jurnal_client_id, sealed),
        )

    def jurnal_credentials(self, company_id: UUID) -> JurnalCredentials:
        company = self.get_company(company_id)
        return JurnalCredentials(
            company.jurnal_client_id, self.secrets.unseal(company.jurnal_client_secret)
        )

    # -- Moka connections -----------------------------------------------------------------

    def connect_moka(
        self,
        *,
        company_id: UUID,
        email: str,
        business_id: str | int,
        outlets: Mapping[str | int, str],
        access_token: str,
        refresh_token: str,
        token_expires_at: datetime | None = None,
    ) -> UUID:
        """Store a Moka connection; connecting the same business again updates it in place."""
        access, refresh = self.secrets.seal(access_token), self.secrets.seal(refresh_token)

        def attempt() -> UUID:
            self.get_company(company_id)
            connection_id = MokaConnection.create_id(company_id, str(business_id).strip())
            try:
                connection = self.get_moka_connection(connection_id)
            except MokaConnectionNotFound:
                connection = MokaConnection.connect(
                    company_id=company_id,
                    email=email,
                    business_id=business_id,
                    outlets=outlets,
                    access_token=access,
                    refresh_token=refresh,
                    token_expires_at=token_expires_at,
                )
                index = connections_index_id(company_id)
                self.save(connection, self._index_change(index, connection.id, present=True))
            else:
                connection.reconnect(
                    email=email,
                    outlets=outlets,
                    access_token=access,
                    refresh_token=refresh,
                    token_expires_at=token_expires_at,
                )
                self.save(connection)
            return connection.id

        return self._retrying(attempt)

    def get_moka_connection(self, connection_id: UUID) -> MokaConnection:
        return self._get(connection_id, MokaConnection, MokaConnectionNotFound)

    def list_moka_connections(self, company_id: UUID) -> list[MokaConnection]:
        members = self._index_members(connections_index_id(company_id))
        return [self.get_moka_connection(i) for i in members]

    def store_moka_tokens(
        self,
        connection_id: UUID,
        *,
        access_token: str,
        refresh_token: str,
        token_expires_at: datetime | None = None,
    ) -> None:
        access, refresh = self.secrets.seal(access_token), self.secrets.seal(refresh_token)
        self._update(
            connection_id,
            MokaConnection,
            MokaConnectionNotFound,
            lambda c: c.store_tokens(access, refresh, token_expires_at),
        )

    def moka_tokens(self, connection_id: UUID) -> MokaTokens:
        connection = self.get_moka_connection(connection_id)
        return MokaTokens(
            self.secrets.unseal(connection.access_token),
            self.secrets.unseal(connection.refresh_token),
            connection.token_expires_at,
        )
