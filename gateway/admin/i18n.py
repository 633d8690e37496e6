"""The admin's words in Bahasa Indonesia (the default) and English: one catalogue of messages,
the setting fields' labels and help texts, and the translation path for what the domain and the
engine say in English (field problems, refusals, mapping and posting errors).

Every merchant-facing text of the pages comes from here: templates call `t(key)`, views
translate domain errors with `error_text` and engine messages with `engine_message`. A message
the engine adds later and this module does not know yet still reaches the merchant, in a
sentence of their language that carries the original English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.errors import DomainError, Invalid, MasterDataNotSynced, NotFound, QuotaExceeded

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

# key -> (Bahasa Indonesia, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # navigation and common words
    "app.title": ("Sambung — Admin", "Sambung — Admin"),
    "nav.settings": ("Daftar Pengaturan", "Settings"),
    "nav.companies": ("Perusahaan", "Companies"),
    "nav.tutorial": ("Tutorial", "Tutorial"),
    "nav.dos": ("Do's & Don'ts", "Do's & Don'ts"),
    "nav.logout": ("Keluar", "Sign out"),
    "nav.language": ("English", "Bahasa Indonesia"),
    "common.save": ("Simpan", "Save"),
    "common.cancel": ("Batal", "Cancel"),
    "common.back": ("Kembali", "Back"),
    "common.unassigned": ("Unassigned", "Unassigned"),
    "common.never": ("Belum pernah", "Never"),
    "common.not_mapped": ("— Tidak dipetakan —", "— Not mapped —"),
    "common.default_account": ("— Akun standar: {account} —", "— Default: {account} —"),
    "common.default_unknown": ("— Akun standar perusahaan —", "— The company's default —"),
    "common.no_tag": ("— Tanpa tag —", "— No tag —"),
    "common.no_warehouse": ("— Tanpa gudang —", "— No warehouse —"),
    "common.read_only": (
        "Tidak dapat diubah setelah pengaturan dibuat.",
        "Cannot change once the setting is made.",
    ),
    "common.form_errors": (
        "Periksa kolom yang ditandai di bawah.",
        "Check the fields marked below.",
    ),
    # sign-in
    "login.title": ("Masuk", "Sign in"),
    "login.email": ("Email", "Email"),
    "login.password": ("Password", "Password"),
    "login.submit": ("Masuk", "Sign in"),
    "login.failed": ("Email atau password salah.", "Wrong email or password."),
    "login.locked": (
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit.",
        "Too many failed sign-ins. Try again in {minutes} minutes.",
    ),
    "login.needed": ("Silakan masuk terlebih dahulu.", "Please sign in first."),
    "logout.done": ("Anda telah keluar.", "You have signed out."),
    "csrf.refused": (
        "Formulir ini kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.",
        "This form has expired or is not valid. Reload the page and try again.",
    ),
    # companies
    "companies.title": ("Perusahaan Jurnal", "Jurnal companies"),
    "companies.name": ("Nama perusahaan", "Company name"),
    "companies.package": ("Paket Jurnal", "Jurnal package"),
    "companies.quota": ("Kuota pengaturan", "Settings quota"),
    "companies.used": ("{used} dari {quota} terpakai", "{used} of {quota} used"),
    "companies.add": ("Tambah Perusahaan Jurnal", "Add a Jurnal company"),
    "companies.client_id": ("Client ID Jurnal", "Jurnal client ID"),
    "companies.client_secret": ("Client Secret Jurnal", "Jurnal client secret"),
    "companies.add_help": (
        "Buat kredensial HMAC untuk perusahaan di portal developer Mekari. Sambung memeriksanya "
        "ke Jurnal dan membaca paket perusahaan.",
        "Create an HMAC credential for the company in Mekari's developer portal. Sambung checks "
        "it with Jurnal and reads the company's package.",
    ),
    "companies.added": (
        "Perusahaan {name} ditambahkan (paket {package}).",
        "Company {name} added ({package} package).",
    ),
    "companies.operator_only": (
        "Hanya operator yang dapat menambah perusahaan.",
        "Only an operator can add companies.",
    ),
    "companies.none": ("Belum ada perusahaan.", "No companies yet."),
    # settings list
    "settings.title": ("Daftar Pengaturan", "Settings"),
    "settings.add": ("+ Tambah Pengaturan Baru", "+ Add New Setting"),
    "settings.sync_all": ("Sinkronisasi Semua Transaksi", "Sync All Transactions"),
    "settings.col.name": ("Nama Pengaturan", "Setting name"),
    "settings.col.tags": ("Tags", "Tags"),
    "settings.col.warehouse": ("Gudang", "Warehouse"),
    "settings.col.last_success": ("Sinkronisasi Sukses Terakhir", "Last Successful Sync"),
    "settings.col.last_sync": ("Sinkronisasi Terakhir", "Last Sync"),
    "settings.col.sync": ("Sinkronisasi", "Sync"),
    "settings.master_data": ("Master Data", "Master Data"),
    "settings.transactions": ("Transaksi", "Transactions"),
    "settings.sync_master": ("Sinkronkan master data", "Sync master data"),
    "settings.sync_transactions": ("Sinkronkan transaksi", "Sync transactions"),
    "settings.tag_count": ("{n} tag", "{n} tag(s)"),
    "settings.none": (
        "Belum ada pengaturan. Klik “+ Tambah Pengaturan Baru” untuk menghubungkan outlet Moka.",
        "No settings yet. Click “+ Add New Setting” to connect a Moka outlet.",
    ),
    "settings.quota_full": (
        "Kuota pengaturan perusahaan ini ({quota}) sudah terpakai. Hapus sebuah pengaturan atau "
        "minta operator menambah kuota.",
        "This company's quota of settings ({quota}) is used up. Delete a setting or ask the "
        "operator to raise the quota.",
    ),
    "settings.sync_started": (
        "Sinkronisasi dimulai. Kemajuannya tampil di bawah.",
        "The sync has started. Its progress shows below.",
    ),
    "settings.sync_all_started": (
        "Sinkronisasi transaksi dimulai untuk {n} pengaturan.",
        "Transactions sync started for {n} setting(s).",
    ),
    "settings.sync_all_skipped": (
        "{name} dilewati: sinkronkan master data terlebih dahulu.",
        "{name} skipped: sync master data first.",
    ),
    "status.Sukses": ("Sukses", "Success"),
    "status.Gagal": ("Gagal", "Failed"),
    "status.Sebagian": ("Sebagian", "Partial"),
    "status.running": ("Berjalan", "Running"),
    "method.Manual": ("Sinkronisasi Manual", "Manual Sync"),
    "method.Otomatis": ("Sinkronisasi Otomatis", "Automatic Sync"),
    "method.Webhook": ("Webhook", "Webhook"),
    "method.Replay": ("Kirim Ulang", "Replay"),
    # new setting
    "new.title": ("Tambah Pengaturan Baru", "Add New Setting"),
    "new.step_connect": ("1. Hubungkan Moka", "1. Connect Moka"),
    "new.step_outlet": ("2. Pilih Toko", "2. Choose the store"),
    "new.step_form": ("3. Isi Pengaturan", "3. Fill in the setting"),
    "new.connect": ("Hubungkan Moka", "Connect Moka"),
    "new.connect_help": (
        "Anda akan diarahkan ke halaman masuk Moka. Masukkan email dan password Moka Anda, "
        "lalu klik “Allow”.",
        "You will be taken to Moka's sign-in page. Enter your Moka email and password, then "
        "click “Allow”.",
    ),
    "new.existing": (
        "Atau gunakan akun Moka yang sudah terhubung:",
        "Or use a Moka account already connected:",
    ),
    "new.connected": ("Moka terhubung: {email}.", "Moka connected: {email}."),
    "new.pick_outlet": ("Pilih", "Choose"),
    "new.no_outlets": (
        "Akun Moka ini belum memiliki outlet.",
        "This Moka account has no outlets yet.",
    ),
    "new.created": ("Pengaturan {name} disimpan.", "Setting {name} saved."),
    "new.company": (
        "Perusahaan Jurnal: {name} (paket {package})",
        "Jurnal company: {name} ({package} package)",
    ),
    # setting detail
    "detail.history": ("Lihat Daftar Sinkronisasi", "View Sync List"),
    "detail.tutorial": ("Tunjukkan Tutorial", "Show Tutorial"),
    "detail.errors": ("Lihat Error", "View Errors"),
    "detail.reconciliation": ("Rekonsiliasi", "Reconciliation"),
    "detail.delete": ("Hapus Pengaturan", "Delete Setting"),
    "detail.delete_confirm": (
        "Hapus pengaturan {name}? Sinkronisasi berhenti dan kuotanya dibebaskan. Dokumen yang "
        "sudah "
        "ada di Jurnal tetap ada. Tindakan ini tidak dapat dibatalkan.",
        "Delete setting {name}? Syncing stops and its quota place is freed. Documents already in "
        "Jurnal stay. This cannot be undone.",
    ),
    "detail.delete_yes": ("Ya, hapus", "Yes, delete"),
    "detail.deleted": ("Pengaturan {name} dihapus.", "Setting {name} deleted."),
    "detail.saved": ("Perubahan disimpan.", "Changes saved."),
    "detail.section.setting": ("Pengaturan", "Setting"),
    "detail.section.product": ("Product Account Mapping", "Product Account Mapping"),
    "detail.section.taxes": ("Akun Pajak", "Tax Accounts"),
    "detail.section.posting": ("Cara Posting ke Jurnal", "How sales reach Jurnal"),
    "posting_mode.per_sale": ("Per penjualan", "Per sale"),
    "posting_mode.daily_summary": ("Ringkasan harian", "Daily summary"),
    "posting_mode.per_sale.help": (
        "Setiap penjualan menjadi faktur dan pembayaran sendiri: pelanggan dan nomor struk "
        "Moka tetap terlihat di Jurnal. Memakai sekitar dua panggilan API Jurnal per penjualan.",
        "Each sale becomes its own invoice and payment: each customer and Moka receipt stays "
        "visible in Jurnal. Costs about two Jurnal API calls per sale.",
    ),
    "posting_mode.daily_summary.help": (
        "Satu hari outlet menjadi satu faktur per produk ke pelanggan default, satu "
        "pembayaran per metode pembayaran, satu retur, dan jurnal penyeimbang: hemat kuota "
        "API Jurnal (sekitar 15 panggilan per hari), tetapi pelanggan dan struk per penjualan "
        "hanya tercatat di memo dan daftar struk. Faktur yang belum dibayar tetap per "
        "penjualan.",
        "A day of the outlet becomes one invoice (a line per product) to the default customer, "
        "one payment per payment method, one return and a balancing entry: it keeps Jurnal's "
        "API budget (about 15 calls a day), but each sale's customer and receipt live only in "
        "the memo and the receipt list. Unpaid invoices stay per sale.",
    ),
    "detail.section.payment": ("Metode Pembayaran", "Payment Methods"),
    "detail.account": ("Akun", "Account"),
    "detail.tag": ("Tag", "Tag"),
    "detail.transactions_from": (
        "Transaksi disinkronkan sejak {date} (1 bulan sebelum Tanggal Awal).",
        "Transactions sync from {date} (1 month before the start date).",
    ),
    "plan.tags": (
        "Tag hanya tersedia pada paket Jurnal Pro atau Enterprise; paket perusahaan ini {package}.",
        "Tags need Jurnal Pro or Enterprise; this company's package is {package}.",
    ),
    "plan.warehouses": (
        "Gudang hanya tersedia pada paket Jurnal Enterprise; paket perusahaan ini {package}.",
        "Warehouses need Jurnal Enterprise; this company's package is {package}.",
    ),
    "form.refresh": (
        "Baru menambah akun, tag, atau gudang di Jurnal? Muat ulang pilihan dari Jurnal.",
        "Just added an account, tag or warehouse in Jurnal? Reload the choices from Jurnal.",
    ),
    # history
    "history.title": ("Daftar Sinkronisasi", "Sync List"),
    "history.col.when": ("Tanggal & Waktu", "Date & Time"),
    "history.col.status": ("Status", "Status"),
    "history.col.method": ("Metode", "Method"),
    "history.col.summary": ("Rangkuman", "Summary"),
    "history.col.errors": ("Lihat Error", "View Errors"),
    "history.master_synced": ("Master Data Tersinkronisasi", "Master Data Synced"),
    "history.transactions_synced": ("Transaksi Tersinkronisasi", "Transactions Synced"),
    "history.none": ("Belum ada sinkronisasi.", "No syncs yet."),
    "history.errors_link": ("{n} error", "{n} error(s)"),
    "history.live": (
        "Sinkronisasi sedang berjalan; halaman ini diperbarui otomatis.",
        "A sync is running; this page updates by itself.",
    ),
    "history.run_error": ("Sinkronisasi gagal: {error}", "The sync failed: {error}"),
    "run.title": ("Rincian Sinkronisasi", "Sync Details"),
    "run.col.reference": ("Referensi Moka", "Moka reference"),
    "run.col.kind": ("Jenis", "Kind"),
    "run.col.message": ("Error", "Error"),
    "run.none": ("Tidak ada error pada sinkronisasi ini.", "This sync had no errors."),
    # errors
    "errors.title": ("Error yang Belum Selesai", "Open Errors"),
    "errors.none": (
        "Tidak ada error. Semua data yang disinkronkan sudah ada di Jurnal.",
        "No errors. Everything synced is in Jurnal.",
    ),
    "errors.count": ("{n} dokumen", "{n} document(s)"),
    "errors.fix": ("Cara memperbaiki", "How to fix"),
    "errors.fix_link": ("Buka kolom yang perlu diubah", "Open the field to change"),
    "errors.items": ("Contoh dokumen", "Example documents"),
    "kind.sales_invoice": ("Penjualan", "Sale"),
    "kind.sales_return": ("Retur Penjualan", "Sales return"),
    "kind.receive_payment": ("Penerimaan Pembayaran", "Payment received"),
    "kind.product": ("Produk", "Product"),
    "kind.customer": ("Pelanggan", "Customer"),
    "kind.tax": ("Pajak", "Tax"),
    # replay
    "replay.title": ("Kirim Ulang yang Gagal", "Replay Failed Items"),
    "replay.preview": ("Pratinjau (tanpa mengirim)", "Preview (sends nothing)"),
    "replay.preview_help": (
        "Pratinjau menunjukkan dokumen yang akan dikirim ke Jurnal. Belum ada yang dikirim.",
        "The preview shows the documents that would be sent to Jurnal. Nothing is sent yet.",
    ),
    "replay.ready": ("Siap dikirim", "Ready to send"),
    "replay.body": ("Isi yang akan dikirim ke Jurnal", "What would be sent to Jurnal"),
    "replay.still_fails": ("Masih gagal", "Still fails"),
    "replay.nothing": (
        "Tidak ada dokumen gagal untuk dikirim ulang.",
        "There are no failed documents to replay.",
    ),
    "replay.run": ("Kirim ulang sekarang", "Replay now"),
    "replay.started": (
        "Pengiriman ulang dimulai. Kemajuannya tampil di bawah.",
        "The replay has started. Its progress shows below.",
    ),
    # reconciliation
    "recon.title": ("Rekonsiliasi Moka dan Jurnal", "Moka and Jurnal Reconciliation"),
    "recon.from": ("Dari", "From"),
    "recon.to": ("Sampai", "To"),
    "recon.show": ("Tampilkan", "Show"),
    "recon.date": ("Tanggal", "Date"),
    "recon.moka": ("Moka", "Moka"),
    "recon.jurnal": ("Jurnal", "Jurnal"),
    "recon.difference": ("Selisih", "Difference"),
    "recon.sales": ("Penjualan", "Sales"),
    "recon.taxes": ("Pajak", "Taxes"),
    "recon.collected": ("Diterima", "Collected"),
    "recon.match": ("Sesuai", "Matches"),
    "recon.differs": ("{n} penjualan berbeda", "{n} sale(s) differ"),
    "recon.none": ("Tidak ada transaksi pada rentang ini.", "No transactions in this range."),
    "recon.reference": ("Struk Moka", "Moka receipt"),
    # tutorial
    "tutorial.title": ("Tutorial", "Tutorial"),
    "dos.title": ("Do's & Don'ts", "Do's & Don'ts"),
    # errors as pages
    "page.not_found": ("Halaman atau data tidak ditemukan.", "Page or record not found."),
    "page.upstream": (
        "{service} tidak dapat dihubungi saat ini. Coba lagi nanti.",
        "{service} cannot be reached right now. Try again later.",
    ),
    "page.refused": ("Permintaan ditolak: {reason}", "Request refused: {reason}"),
    "page.error": ("Terjadi kesalahan", "Something went wrong"),
    "page.failed": (
        "Sambung tidak dapat menyelesaikan permintaan ini. Coba lagi; bila berulang, hubungi "
        "operator.",
        "Sambung could not complete this request. Try again; if it happens again, tell the "
        "operator.",
    ),
    # the company page: notifications, credential, audit trail; downloads
    "company.open": (
        "Kelola",
        "Manage",
    ),
    "company.credential": (
        "Kredensial API Jurnal",
        "Jurnal API credential",
    ),
    "company.credential_help": (
        "Ganti kredensial bila Mekari membuat yang baru. Sambung memeriksanya dengan Jurnal "
        "lebih dulu; pengaturan yang terhenti karena kredensial lama berjalan lagi.",
        "Replace the credential when Mekari issues a new one. Sambung checks it with Jurnal "
        "first; settings stopped by the old one resume.",
    ),
    "company.credential_replace": (
        "Ganti kredensial",
        "Replace credential",
    ),
    "company.credential_replaced": (
        "Kredensial diganti; {n} pengaturan berjalan lagi.",
        "Credential replaced; {n} settings resume.",
    ),
    "company.notify": (
        "Pemberitahuan untuk saya",
        "My notifications",
    ),
    "company.notify_help": (
        "Email saat sinkronisasi Gagal atau Sebagian, atau saat pengaturan terhenti.",
        "Email when a sync fails or partly fails, or a setting is stopped.",
    ),
    "company.notify_mode": (
        "Kirim",
        "Send",
    ),
    "company.notify_now": (
        "Segera, satu email per kejadian",
        "At once, one email per event",
    ),
    "company.notify_digest": (
        "Ringkasan harian",
        "A daily digest",
    ),
    "company.notify_off": (
        "Jangan kirim email",
        "No emails",
    ),
    "company.notify_lang": (
        "Bahasa email",
        "Email language",
    ),
    "company.notify_saved": (
        "Pilihan pemberitahuan disimpan.",
        "Notification choice saved.",
    ),
    "company.webhook": (
        "Webhook",
        "Webhook",
    ),
    "company.webhook_help": (
        "Alamat yang menerima setiap kejadian sebagai JSON (format Slack), ditandatangani "
        "dengan X-Sambung-Signature.",
        "An address that receives each event as JSON (Slack's shape), signed with "
        "X-Sambung-Signature.",
    ),
    "company.webhook_saved": (
        "Webhook disimpan.",
        "Webhook saved.",
    ),
    "company.audit": (
        "Jejak audit",
        "Audit trail",
    ),
    "company.audit_none": (
        "Belum ada perubahan tercatat.",
        "No changes recorded yet.",
    ),
    "company.audit_when": (
        "Waktu",
        "When",
    ),
    "company.audit_who": (
        "Oleh",
        "By",
    ),
    "company.audit_what": (
        "Perubahan",
        "Change",
    ),
    "company.audit_older": (
        "Lebih lama",
        "Older",
    ),
    "export.csv": (
        "Unduh CSV",
        "Download CSV",
    ),
    "export.xlsx": (
        "Unduh XLSX",
        "Download XLSX",
    ),
    "audit.company.added": (
        "Perusahaan ditambahkan",
        "Company added",
    ),
    "audit.company.credential_replaced": (
        "Kredensial Jurnal diganti",
        "Jurnal credential replaced",
    ),
    "audit.company.quota_changed": (
        "Kuota diubah",
        "Quota changed",
    ),
    "audit.company.notifications_changed": (
        "Pemberitahuan diubah",
        "Notifications changed",
    ),
    "audit.setting.created": (
        "Pengaturan dibuat",
        "Setting created",
    ),
    "audit.setting.changed": (
        "Pengaturan diubah",
        "Setting changed",
    ),
    "audit.setting.deleted": (
        "Pengaturan dihapus",
        "Setting deleted",
    ),
    "audit.sync.requested": (
        "Sinkronisasi diminta",
        "Sync requested",
    ),
    "audit.replay.requested": (
        "Replay diminta",
        "Replay requested",
    ),
    "audit.user.added": (
        "Pengguna ditambahkan",
        "User added",
    ),
}

# Setting fields: label, help text (as the add-on words them), each in both languages.
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "outlet_id": {
        "label": ("Toko", "Store"),
        "help": ("Nama outlet Moka yang diintegrasikan.", "The Moka outlet being connected."),
    },
    "email": {
        "label": ("Email yang Terdaftar", "Registered email"),
        "help": ("Email Moka yang digunakan untuk masuk.", "The Moka email used to sign in."),
    },
    "name": {
        "label": ("Nama Pengaturan", "Setting name"),
        "help": ("Nama pengaturan integrasi ini.", "A name for this integration setting."),
    },
    "start_date": {
        "label": ("Tanggal Awal", "Start date"),
        "help": (
            "Tanggal mulai sinkronisasi transaksi; transaksi sejak 1 bulan sebelumnya ikut "
            "tersinkron. Diatur satu kali.",
            "When transactions start syncing; those from one month before it sync too. Set once.",
        ),
    },
    "track_inventory": {
        "label": ("Monitor Persediaan Barang", "Track inventory"),
        "help": (
            "Jika aktif, produk yang dilacak stoknya di Moka dibuat sebagai produk yang dimonitor "
            "persediaannya di Jurnal.",
            "When on, products whose stock Moka tracks are created as tracked products in Jurnal.",
        ),
    },
    "auto_sync": {
        "label": ("Sinkronisasi Harian Otomatis", "Automatic daily sync"),
        "help": (
            "Transaksi Anda akan disinkronisasi setiap hari secara otomatis pada waktu ini "
            "(Asia/Jakarta).",
            "Your transactions sync automatically every day at this time (Asia/Jakarta).",
        ),
    },
    "sync_time": {
        "label": ("Waktu sinkronisasi", "Sync time"),
        "help": ("Standar pukul 22.00.", "22:00 by default."),
    },
    "default_customer": {
        "label": ("Default Customer", "Default customer"),
        "help": (
            "Pelanggan Jurnal untuk transaksi tanpa nama pelanggan; dibuat bila belum ada. "
            "Diatur satu kali.",
            "The Jurnal customer for sales without a customer; made if missing. Set once.",
        ),
    },
    "name_prefix": {
        "label": ("Prefix Nama Produk", "Product name prefix"),
        "help": (
            "Ditambahkan pada Nama Produk, Kode Produk, Pajak, dan Biaya Tambahan di Jurnal untuk "
            "membedakan data tiap outlet. Contoh: Outlet Jakarta Selatan | Jus Jeruk. Diatur "
            "satu kali.",
            "Added to product names and codes, taxes and additional charges in Jurnal to tell "
            "outlets apart. Example: Outlet Jakarta Selatan | Jus Jeruk. Set once.",
        ),
    },
    "name_suffix": {
        "label": ("Suffix Nama Produk", "Product name suffix"),
        "help": (
            "Ditambahkan di belakang nama data: Jus Jeruk | Jaksel. Diatur satu kali.",
            "Added after the data's name: Jus Jeruk | Jaksel. Set once.",
        ),
    },
    "tag": {
        "label": ("Tag", "Tag"),
        "help": (
            "Label untuk mengelompokkan produk dan transaksi di Jurnal. Hanya paket Pro atau "
            "Enterprise.",
            "A label that groups products and transactions in Jurnal. Pro or Enterprise only.",
        ),
    },
    "warehouse": {
        "label": ("Gudang", "Warehouse"),
        "help": (
            "Gudang Jurnal untuk produk dan transaksi outlet ini. Hanya paket Enterprise.",
            "The Jurnal warehouse for this outlet's products and sales. Enterprise only.",
        ),
    },
    "sync_by_product_name": {
        "label": ("Sinkronisasi Transaksi dengan Nama Produk", "Sync transactions by product name"),
        "help": (
            "Aktifkan jika produk di Moka telah Anda hapus dan telah membuatnya kembali di Jurnal.",
            "Turn on if you deleted products in Moka and created them again in Jurnal.",
        ),
    },
    "sales_account": {
        "label": ("Akun Penjualan", "Sales account"),
        "help": (
            "Akun pendapatan untuk produk Moka. Kosong: akun standar perusahaan di Jurnal.",
            "The income account of Moka products. Empty: the company's default in Jurnal.",
        ),
    },
    "purchase_account": {
        "label": ("Akun Pembelian", "Purchase account"),
        "help": (
            "Akun pembelian (harga pokok) untuk produk Moka. Kosong: akun standar perusahaan.",
            "The purchase (cost) account of Moka products. Empty: the company's default.",
        ),
    },
    "sell_tax_account": {
        "label": ("Akun Pajak Penjualan", "Sales tax account"),
        "help": (
            "Akun untuk pajak penjualan (mis. PB1, PPN Keluaran). Kosong: akun standar perusahaan.",
            "The account of taxes on sales (e.g. PB1, output VAT). Empty: the company's default.",
        ),
    },
    "posting_mode": {
        "label": ("Mode posting", "Posting mode"),
        "help": (
            "Perubahan berlaku mulai hari bisnis berikutnya (Asia/Jakarta); hari yang sudah "
            "berjalan atau sudah diposting tidak berubah.",
            "A change takes effect from the next business day (Asia/Jakarta); days already "
            "under way or posted keep their mode.",
        ),
    },
    "rounding_account": {
        "label": ("Akun pembulatan ringkasan", "Summary rounding account"),
        "help": (
            "Ringkasan harian: jurnal penyeimbang mencatat selisih pembulatan Jurnal terhadap "
            "Moka di akun ini. Kosong: akun penjualan.",
            "Daily summary: the balancing entry books where Jurnal's rounding differs from "
            "Moka's here. Empty: the sales account.",
        ),
    },
    "summary_close_time": {
        "label": ("Jam tutup hari bisnis", "Business day closes at"),
        "help": (
            "Ringkasan harian: hari diposting setelah jam ini. Kosong: setelah tengah malam, "
            "pada sinkronisasi berikutnya.",
            "Daily summary: a day is posted after this time. Empty: after midnight, at the next "
            "sync.",
        ),
    },
    "buy_tax_account": {
        "label": ("Akun Pajak Pembelian", "Purchase tax account"),
        "help": (
            "Akun untuk pajak pembelian (mis. PPN Masukan). Kosong: akun standar perusahaan.",
            "The account of taxes on purchases (e.g. input VAT). Empty: the company's default.",
        ),
    },
    "payment_accounts": {
        "label": ("Metode Pembayaran", "Payment methods"),
        "help": (
            "Setiap metode pembayaran Moka dicatat ke akun Kas & Bank dan tag ini di Jurnal.",
            "Each Moka payment method is deposited to this Cash & Bank account and tag in Jurnal.",
        ),
    },
}

BUCKETS: dict[str, tuple[str, str]] = {
    "cash": ("Tunai", "Cash"),
    "edc": ("EDC", "EDC (cards)"),
    "gift_card": ("Gift Card", "Gift Card"),
    "ovo": ("OVO", "OVO"),
    "tcash": ("TCASH/GoPay/QRIS", "TCASH/GoPay/QRIS"),
    "other": ("Lain-lain", "Other"),
}


def lang_index(lang: str) -> int:
    return LANGUAGES.index(lang) if lang in LANGUAGES else 0


def t(key: str, lang: str, **values: Any) -> str:
    text = MESSAGES[key][lang_index(lang)]
    return text.format(**values) if values else text


def kind_label(kind: str, lang: str) -> str:
    """A document kind ("sales_invoice") as the merchant calls it."""
    key = f"kind.{kind}"
    return t(key, lang) if key in MESSAGES else kind


def field_label(name: str, lang: str) -> str:
    """A field's label; dotted payment paths read "Metode Pembayaran › Tunai › Tag"."""
    parts = name.split(".")
    if parts[0] == "payment_accounts" and len(parts) > 1:
        words = [FIELDS["payment_accounts"]["label"][lang_index(lang)]]
        words.append(BUCKETS.get(parts[1], (parts[1], parts[1]))[lang_index(lang)])
        if len(parts) > 2:
            words.append(t("detail.tag" if parts[2] == "tag" else "detail.account", lang))
        return " › ".join(words)
    entry = FIELDS.get(parts[0])
    return entry["label"][lang_index(lang)] if entry else name


def field_help(name: str, lang: str) -> str:
    return FIELDS[name]["help"][lang_index(lang)]


# -- what the domain says, in the merchant's language -------------------------------------------

# (English pattern, Indonesian text, English text); named groups fill both texts.
_FIELD_PROBLEMS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), indonesian, english)
    for pattern, indonesian, english in (
        (r"^(is required|Missing data for required field\.)$", "wajib diisi", "is required"),
        (r"^Not a valid date\.$", "harus berupa tanggal", "must be a date"),
        (r"^Not a valid time\.$", "harus berupa jam, JJ:MM", "must be a time of day, HH:MM"),
        (r"^Longer than maximum length (?P<n>\d+)\.$", "maksimal {n} karakter",
         "must be at most {n} characters"),
        (r"^must be at most (?P<n>\d+) characters$", "maksimal {n} karakter",
         "must be at most {n} characters"),
        (r"^must not contain '\|'; Sambung adds it$",
         "tidak boleh memuat '|'; Sambung menambahkannya sendiri",
         "must not contain '|'; Sambung adds it"),
        (r"^cannot change; delete the setting and create it again$",
         "tidak dapat diubah; hapus pengaturan lalu buat kembali",
         "cannot change; delete the setting and create it again"),
        (r"^needs Jurnal Pro or Enterprise; this company's package is (?P<p>\w+)$",
         "memerlukan paket Jurnal Pro atau Enterprise; paket perusahaan ini {p}",
         "needs Jurnal Pro or Enterprise; this company's package is {p}"),
        (r"^needs Jurnal Enterprise; this company's package is (?P<p>\w+)$",
         "memerlukan paket Jurnal Enterprise; paket perusahaan ini {p}",
         "needs Jurnal Enterprise; this company's package is {p}"),
        (r"^must be a date, YYYY-MM-DD$", "harus berupa tanggal", "must be a date, YYYY-MM-DD"),
        (r"^must be a time of day, HH:MM$", "harus berupa jam, JJ:MM",
         "must be a time of day, HH:MM"),
        (r"^must be an email address$", "harus berupa alamat email", "must be an email address"),
        (r"^(?P<o>\S+) is not one of the Moka connection's outlets.*$",
         "{o} bukan outlet dari akun Moka ini", "{o} is not an outlet of this Moka account"),
        (r"^belongs to another company$", "milik perusahaan lain", "belongs to another company"),
        (r"^names (?P<a>.+), which is not an account of this Jurnal company"
         r"(?:; closest: (?P<c>.+))?$",
         "menyebut {a}, yang bukan akun perusahaan Jurnal ini{closest}",
         "names {a}, which is not an account of this Jurnal company{closest}"),
        (r"^names (?P<a>.+), which is not a Cash & Bank account.*$",
         "menyebut {a}, yang bukan akun Kas & Bank; Jurnal hanya menyetor uang ke akun Kas & Bank",
         "names {a}, which is not a Cash & Bank account; Jurnal deposits only into Cash & Bank"),
        (r"^was refused by Jurnal; check the client id and secret$",
         "ditolak oleh Jurnal; periksa client ID dan secret",
         "was refused by Jurnal; check the client id and secret"),
        (r"^was refused by Moka; connect Moka again$",
         "ditolak oleh Moka; hubungkan Moka kembali", "was refused by Moka; connect Moka again"),
        (r"^is unknown or expired; start connecting again$",
         "tidak dikenal atau kedaluwarsa; mulai hubungkan Moka lagi",
         "is unknown or expired; start connecting again"),
        (r"^is missing: Moka answered (?P<e>.+); connect Moka again$",
         "tidak ada: Moka menjawab {e}; hubungkan Moka kembali",
         "is missing: Moka answered {e}; connect Moka again"),
        (r"^lacks a scope Sambung needs.*$",
         "tidak memiliki izin yang dibutuhkan Sambung (profile, library, customer, transaction)",
         "lacks a scope Sambung needs (profile, library, customer, transaction)"),
    )
)  # fmt: skip


def field_problem(problem: str, lang: str) -> str:
    """A domain field problem ("is required") in the merchant's language."""
    for pattern, indonesian, english in _FIELD_PROBLEMS:
        found = pattern.match(problem)
        if found:
            values = found.groupdict()
            if "c" in values:
                close = values.pop("c")
                word = "; terdekat: " if lang == "id" else "; closest: "
                values["closest"] = word + close if close else ""
            return (indonesian if lang == "id" else english).format(**values)
    return problem if lang == "en" else f"tidak valid ({problem})"


def field_errors(error: Invalid, lang: str) -> dict[str, str]:
    """Each offending field by name, with its problem in the merchant's language."""
    return {name: field_problem(problem, lang) for name, problem in error.fields.items()}


def error_text(error: DomainError, lang: str) -> str:
    """A refusal or missing record as one sentence for the page."""
    if isinstance(error, QuotaExceeded):
        return t("settings.quota_full", lang, quota=error.quota)
    if isinstance(error, MasterDataNotSynced):
        return t("page.refused", lang, reason=_MASTER_FIRST[lang_index(lang)])
    if isinstance(error, NotFound):
        return t("page.not_found", lang)
    if isinstance(error, Invalid):
        return "; ".join(
            f"{field_label(name, lang)}: {problem}"
            for name, problem in field_errors(error, lang).items()
        )
    return error.message if lang == "en" else t("page.refused", lang, reason=error.message)


_MASTER_FIRST = (
    "sinkronkan master data terlebih dahulu, lalu transaksi",
    "sync master data first, then transactions",
)


# -- what the engine says about a failed item ----------------------------------------------------

_Q = r"['\"]"  # Python's repr quotes a name with either
_ENGINE: dict[str, tuple[re.Pattern[str], str, str]] = {
    "PaymentAccountMissing": (
        re.compile(
            rf"deposit account for {_Q}(?P<bucket>.+?){_Q} "
            rf"\(Moka payment {_Q}(?P<payment>.*?){_Q}\)"
        ),
        "Pengaturan belum memiliki akun setoran untuk {bucket!r} (pembayaran Moka {payment!r}); "
        "pilih akun pada pemetaan Metode Pembayaran, lalu sinkronkan lagi.",
        "The setting has no deposit account for {bucket!r} (Moka payment {payment!r}); choose "
        "one under payment-method mapping, then sync again.",
    ),
    "ProductNotSynced": (
        re.compile(rf"^Product {_Q}(?P<name>.+?){_Q} \((?P<ref>[^)]*)\) is not in Jurnal"),
        "Produk {name!r} ({ref}) tidak ada di Jurnal; kemungkinan sudah dihapus di Moka sebelum "
        "tersinkron. Aktifkan 'Sinkronisasi Transaksi dengan Nama Produk' dan buat produk "
        "bernama {name!r} di Jurnal, atau jalankan sinkronisasi master data bila produk masih "
        "ada di Moka.",
        "Product {name!r} ({ref}) is not in Jurnal; it was probably deleted in Moka before it "
        "was synced. Turn on 'sync transactions by product name' and create a product named "
        "{name!r} in Jurnal, or run the master-data sync if the product still exists in Moka.",
    ),
    "CustomerNotSynced": (
        re.compile(rf"^Moka customer {_Q}(?P<name>.+?){_Q} \(id (?P<id>[^)]+)\)"),
        "Pelanggan Moka {name!r} (id {id}) belum ada di Jurnal; jalankan sinkronisasi master "
        "data, lalu sinkronkan transaksi lagi.",
        "Moka customer {name!r} (id {id}) is not in Jurnal yet; run the master-data sync, then "
        "sync transactions again.",
    ),
    "TaxNotInJurnal": (
        re.compile(rf"^Jurnal has no tax named {_Q}(?P<name>.+?){_Q} \((?P<rate>[^%]+)%\)"),
        "Jurnal tidak memiliki pajak bernama {name!r} ({rate}%); jalankan sinkronisasi master "
        "data, atau buat pajak itu di Jurnal dengan tarif tersebut.",
        "Jurnal has no tax named {name!r} ({rate}%); run the master-data sync, or create that "
        "tax in Jurnal with that rate.",
    ),
    "TaxRateMismatch": (
        re.compile(rf"^Tax {_Q}(?P<name>.+?){_Q} is (?P<j>\S+)% in Jurnal but (?P<m>\S+)% in Moka"),
        "Pajak {name!r} bertarif {j}% di Jurnal tetapi {m}% di Moka; samakan tarif di Jurnal "
        "dengan Moka, lalu sinkronkan lagi.",
        "Tax {name!r} is {j}% in Jurnal but {m}% in Moka; change the rate in Jurnal to match "
        "Moka, then sync again.",
    ),
    "InconsistentPayment": (
        re.compile(
            r"^Moka receipt (?P<receipt>\S+) does not add up, so it is not posted: "
            r"(?P<problems>.*?)\. Correct"
        ),
        "Struk Moka {receipt} tidak seimbang sehingga tidak dicatat ({problems}). Perbaiki "
        "penjualan di Moka (atau refund dan input ulang), lalu sinkronkan lagi.",
        "Moka receipt {receipt} does not add up, so it is not posted ({problems}). Correct the "
        "sale in Moka (or refund and ring it up again), then sync again.",
    ),
    "BeforeSyncWindow": (
        re.compile(
            r"^Moka receipt (?P<receipt>\S+) is dated (?P<sold>\S+), before (?P<first>\S+),"
        ),
        "Struk Moka {receipt} bertanggal {sold}, sebelum {first}, hari pertama yang "
        "disinkronkan pengaturan ini (1 bulan sebelum Tanggal Awal); tidak dicatat.",
        "Moka receipt {receipt} is dated {sold}, before {first}, the first day this setting "
        "syncs (one month before its start date); it is not posted.",
    ),
}  # fmt: skip
# Finds the payment method a PaymentAccountMissing names, to link to its field.
ENGINE_BUCKET = _ENGINE["PaymentAccountMissing"][0]
_UNKNOWN = (
    "Dokumen ini gagal disinkronkan. Pesan dari sistem (bahasa Inggris): {message}",
    "This document failed to sync: {message}",
)

# What fixes each known cause, and where: a field of the setting, or a sync to run.
FIXES: dict[str, tuple[str, tuple[str, str]]] = {
    "PaymentAccountMissing": (
        "payment_accounts",
        ("Pilih akun setoran untuk metode pembayaran ini di pengaturan, lalu kirim ulang yang "
         "gagal.",
         "Choose a deposit account for this payment method in the setting, then replay the "
         "failed items."),
    ),
    "ProductNotSynced": (
        "sync_by_product_name",
        ("Aktifkan Sinkronisasi Transaksi dengan Nama Produk dan buat produknya di Jurnal, lalu "
         "kirim ulang yang gagal.",
         "Turn on sync by product name and create the product in Jurnal, then replay the "
         "failed items."),
    ),
    "CustomerNotSynced": (
        "",
        ("Jalankan sinkronisasi master data, lalu kirim ulang yang gagal.",
         "Run the master-data sync, then replay the failed items."),
    ),
    "TaxNotInJurnal": (
        "",
        ("Jalankan sinkronisasi master data (atau buat pajaknya di Jurnal), lalu kirim ulang.",
         "Run the master-data sync (or create the tax in Jurnal), then replay."),
    ),
    "TaxRateMismatch": (
        "",
        ("Samakan tarif pajak di Jurnal dengan Moka, lalu kirim ulang yang gagal.",
         "Make the tax rate in Jurnal match Moka, then replay the failed items."),
    ),
    "InconsistentPayment": (
        "",
        ("Perbaiki penjualan di Moka, lalu sinkronkan transaksi lagi.",
         "Correct the sale in Moka, then sync transactions again."),
    ),
}  # fmt: skip
_DEFAULT_FIX = (
    "Perbaiki penyebabnya sesuai pesan di atas, lalu kirim ulang yang gagal.",
    "Fix the cause the message names, then replay the failed items.",
)


def engine_message(error_class: str, message: str, lang: str) -> str:
    """A failed item's message (English, from the mapping or from Jurnal) in `lang`."""
    known = _ENGINE.get(error_class)
    found = known[0].search(message) if known else None
    if known and found:
        return (known[1] if lang == "id" else known[2]).format(**found.groupdict())
    if lang == "en":
        return message
    return _UNKNOWN[0].format(message=message)


def fix_for(error_class: str, lang: str) -> tuple[str, str]:
    """(the setting field that fixes the cause or "", what to do) for an error class."""
    field, words = FIXES.get(error_class, ("", _DEFAULT_FIX))
    return field, words[lang_index(lang)]


def bucket_of_label(label: str) -> str | None:
    """The payment bucket whose Indonesian label (as the engine names it) is `label`."""
    for bucket, (indonesian, _) in BUCKETS.items():
        if indonesian == label:
            return bucket
    return None


_DAYS = (
    ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
    ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
)
_MONTHS = (
    ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)


def when(value: str | datetime | None, lang: str) -> str:
    """A moment as the add-on shows it: "Kam, 27 Sep 2018, 11:48" (in the read models' own
    time zone, the merchant's)."""
    if not value:
        return t("common.never", lang)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    index = lang_index(lang)
    return (
        f"{_DAYS[index][moment.weekday()]}, {moment.day:02d} {_MONTHS[index][moment.month - 1]} "
        f"{moment.year}, {moment:%H:%M}"
    )


def day(value: str | date, lang: str) -> str:
    moment = value if isinstance(value, date) else date.fromisoformat(value)
    index = lang_index(lang)
    month = _MONTHS[index][moment.month - 1]
    return f"{_DAYS[index][moment.weekday()]}, {moment.day:02d} {month} {moment.year}"


def money(value: str | Decimal | None, lang: str) -> str:
    """Rupiah as merchants write them: "Rp 1.234.567,50" (Indonesian) or "Rp 1,234,567.50"."""
    amount = Decimal(value or 0)
    text = f"{abs(amount):,.2f}".removesuffix(".00")
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return ("-" if amount < 0 else "") + "Rp " + text


def check_catalogue(messages: Mapping[str, tuple[str, str]] = MESSAGES) -> list[str]:
    """Keys whose text is missing in a language (the unit tests keep this empty)."""
    return [key for key, texts in messages.items() if len(texts) != 2 or not all(texts)]
