"""Demo reports: about two hundred complaints, suggestions and information requests from villages of
Kota Tangerang Selatan and Kabupaten Tangerang, spread over every status a report can have.

Every report is filed and moved only through the report services, by the demo accounts in the
capacity the workflow gives them (the national admin verifies and dispatches, coordinators forward,
liaison officers follow up, reporters confirm, rate, dispute and refer), so the demo shows exactly
what the system itself produces, hash-chained trail included.

The history is spread over the past weeks, as a live system's would be: each report is filed some days
ago (how long depends on where it ends: a report still awaiting verification is days old, a referral
to the Ombudsman over sixty), and each later step comes hours or days after the one before, under the
demo clock (lapor.demo.clock), so that deadlines, ages and medians read as they would in real use. A
report's story ends before now, and where its state would change by itself once a window passes
(awaiting details, awaiting the reporter's reply) it ends within that window. Deemed complete and
referred reports let their window pass in the story itself. Nothing is dated before the latest audit
anchor, which fixed what happened before it.

Idempotent: nothing is seeded when demo reports exist already (reports of demo reporters, guests or
staff, all under DEMO_EMAIL_DOMAIN). The texts are Indonesian, like the reports citizens write.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lapor.accounts.models import User
from lapor.accounts.services import user_create
from lapor.core.models import AuditAnchor
from lapor.demo.clock import DemoClock, demo_clock
from lapor.institutions.models import Category, Institution
from lapor.regions.models import Region
from lapor.reports.access import ReporterProof, reporter_proof_by_link
from lapor.reports.choices import ArchiveReason, Channel, Clock, ReportKind, ReportWeight, Status
from lapor.reports.models import Report, ReportClock, guest_email_key
from lapor.reports.services import (
    report_archive,
    report_comment,
    report_confirm,
    report_deem_complete,
    report_dispatch,
    report_dispute,
    report_follow_up,
    report_forward,
    report_hold,
    report_merge,
    report_rate,
    report_refer,
    report_request_information,
    report_return,
    report_submit,
    report_support,
)

DEMO_REPORT_COUNT = 200
DEMO_REPORT_SEED = 1708  # the LAPOR! SMS number
DEMO_EMAIL_DOMAIN = "@demo.lapor.id"
IDEMPOTENCY_PREFIX = "demo-report-"
CITY_PREFIX = "36.74."  # Kota Tangerang Selatan
REGENCY_PREFIX = "36.03."  # Kabupaten Tangerang
SERPONG_PREFIX = "36.74.01."

# Staff accounts of lapor.demo.services.DEMO_ACCOUNTS, by what they do here.
NATIONAL_ADMIN = "nasional@demo.lapor.id"
COORDINATORS = {
    "kota-tangsel": "koordinator.tangsel@demo.lapor.id",
    "kab-tangerang": "koordinator.kabtangerang@demo.lapor.id",
    "kemensos": "kemensos@demo.lapor.id",
}
LIAISON_OFFICERS = {
    "kota-tangsel-dishub": "dishub.tangsel@demo.lapor.id",
    "kab-tangerang-dishub": "dishub.kabtangerang@demo.lapor.id",
    "kota-tangsel-serpong": "serpong@demo.lapor.id",
    "pln": "pln@demo.lapor.id",
}
# (e-mail, full name, phone): the demo citizen of DEMO_ACCOUNTS first, then the ones created here.
CITIZENS = (
    ("warga@demo.lapor.id", "Siti Warga", None),
    ("budi.santoso@demo.lapor.id", "Budi Santoso", "+6281200000002"),
    ("dewi.lestari@demo.lapor.id", "Dewi Lestari", "+6281200000003"),
    ("agus.setiawan@demo.lapor.id", "Agus Setiawan", None),
    ("rina.marlina@demo.lapor.id", "Rina Marlina", None),
    ("yusuf.hidayat@demo.lapor.id", "Yusuf Hidayat", "+6281200000006"),
)
# (name, e-mail, phone) of people who report without an account.
GUESTS = (
    ("Hendra Gunawan", "hendra.gunawan@demo.lapor.id", ""),
    ("Sri Wahyuni", "sri.wahyuni@demo.lapor.id", "+6285700000011"),
    ("Ahmad Fauzi", "ahmad.fauzi@demo.lapor.id", ""),
    ("Nur Aini", "", "+6285700000012"),
    ("", "", "+6285700000013"),
    ("Joko Susilo", "joko.susilo@demo.lapor.id", ""),
)

# Streets named after the village or district, or as streets are named everywhere, so that a street
# never lands in the wrong town.
STREETS = (
    "Jl. Raya {district}",
    "Jl. {village} Raya",
    "Jl. Melati",
    "Jl. Kenanga",
    "Jl. Mawar",
    "Jl. Masjid",
    "Jl. Pendidikan",
    "Jl. Anggrek",
    "Jl. Flamboyan",
    "Gg. Haji Naim",
)
PLACES = (
    "Pasar {village}",
    "Masjid Jami {village}",
    "Perumahan Griya {village} Asri",
    "pertigaan dekat minimarket",
    "SDN {village} 1",
    "Puskesmas {district}",
    "pos ronda RW 05",
    "lapangan bola {village}",
)
# Rough centres of the two areas, for the map points some reports carry.
CENTRES = {
    CITY_PREFIX: (Decimal("-6.2950"), Decimal("106.7100")),
    REGENCY_PREFIX: (Decimal("-6.1900"), Decimal("106.4800")),
}


@dataclasses.dataclass(frozen=True)
class Topic:
    """One kind of problem people report, with the words they use and the answers they get."""

    category: str
    # Who answers: "regional" (the city or regency government, forwarded to its ``unit``), or the
    # code of a national institution that is dispatched to directly ("pln", "kemensos").
    route: str
    unit: str  # the regional unit's code without its government prefix ("dishub"), or ""
    weight: str
    titles: tuple[str, ...]
    bodies: tuple[str, ...]
    progress: tuple[str, ...]
    final: tuple[str, ...]
    question: str
    kind: str = ReportKind.COMPLAINT
    village_prefixes: tuple[str, ...] = (CITY_PREFIX, REGENCY_PREFIX)


TOPICS: tuple[Topic, ...] = (
    Topic(
        category="penerangan-jalan-umum",
        route="regional",
        unit="dishub",
        weight=ReportWeight.LIGHT,
        titles=(
            "Lampu PJU mati di {street}",
            "Lampu jalan padam sepanjang {street}, {village}",
            "Tiang lampu jalan miring dan lampunya mati di dekat {place}",
        ),
        bodies=(
            "Sudah {days} hari lampu penerangan jalan umum di {street}, Kelurahan/Desa {village}, Kecamatan "
            "{district} mati. Malam hari jalan gelap gulita dan minggu lalu ada pengendara motor yang terjatuh "
            "karena tidak melihat lubang. Mohon segera diperbaiki.",
            "Ada {count} titik lampu PJU yang tidak menyala di sekitar {place}, {street}. Warga sudah melapor ke "
            "RT tetapi belum ada tindakan. Daerah ini rawan begal pada malam hari, ibu-ibu pulang kerja jadi takut.",
        ),
        progress=(
            "Laporan sudah kami terima. Tim PJU Dinas Perhubungan dijadwalkan mengecek lokasi pada minggu ini.",
            "Tim sudah mengecek lokasi: kerusakan ada pada panel dan kabel. Material sedang kami siapkan.",
        ),
        final=(
            "Tim PJU telah mengganti lampu dan memperbaiki instalasi kabel di lokasi. Lampu sudah menyala kembali "
            "sejak semalam. Terima kasih atas laporannya.",
            "Panel PJU yang rusak sudah diganti dan seluruh titik lampu di ruas tersebut menyala kembali.",
        ),
        question="Mohon sebutkan nomor tiang atau patokan terdekat agar tim kami mudah menemukan lampunya.",
    ),
    Topic(
        category="jalan-rusak",
        route="regional",
        unit="dpupr",
        weight=ReportWeight.NORMATIVE,
        titles=(
            "Jalan berlubang di {street} membahayakan pengendara",
            "Jalan rusak parah di {village}, sudah {months} bulan tidak diperbaiki",
            "Aspal amblas di depan {place}",
        ),
        bodies=(
            "Jalan di {street}, {village}, berlubang cukup dalam di beberapa titik. Saat hujan lubang tertutup "
            "genangan sehingga tidak terlihat, sudah beberapa kali motor terjatuh. Mohon ditambal sebelum ada "
            "korban lagi.",
            "Ruas jalan dari {place} ke arah {street} rusak parah sejak musim hujan, sudah {months} bulan tidak "
            "diperbaiki. Angkot dan anak sekolah terpaksa lewat jalan tanah di pinggir.",
        ),
        progress=(
            "Laporan diteruskan ke UPT Jalan dan Jembatan. Lokasi sudah masuk jadwal survei minggu depan.",
            "Survei sudah dilakukan; perbaikan masuk jadwal pemeliharaan rutin bulan ini.",
        ),
        final=(
            "Perbaikan tambal sulam sudah dilaksanakan oleh UPT Jalan DPUPR pada ruas yang dilaporkan.",
            "Jalan sudah diaspal ulang sepanjang 120 meter. Mohon konfirmasi bila masih ada lubang yang terlewat.",
        ),
        question="Mohon kirimkan foto kerusakan dan patokan lokasinya (nomor rumah atau nama toko terdekat).",
    ),
    Topic(
        category="drainase-banjir",
        route="regional",
        unit="dpupr",
        weight=ReportWeight.NO_INVESTIGATION,
        titles=(
            "Saluran air tersumbat, {street} tergenang setiap hujan",
            "Banjir di {place} karena gorong-gorong ambrol",
        ),
        bodies=(
            "Setiap hujan deras, {street} di {village} tergenang setinggi lutut karena saluran air tersumbat "
            "sampah dan lumpur. Air masuk ke rumah warga. Mohon dinormalisasi.",
            "Gorong-gorong di dekat {place} ambrol sejak {days} hari lalu, air meluap ke jalan dan rumah warga "
            "RT 03. Kami khawatir kalau hujan besar lagi banjirnya makin parah.",
        ),
        progress=("Tim Satgas Drainase sudah meninjau lokasi; pengerukan saluran dijadwalkan minggu ini.",),
        final=("Saluran sudah dikeruk dan gorong-gorong yang ambrol sudah diganti dengan box culvert baru.",),
        question="Apakah genangan terjadi di sisi kiri atau kanan jalan, dan sejak kapan? Mohon kirim foto.",
    ),
    Topic(
        category="sampah",
        route="regional",
        unit="dlh",
        weight=ReportWeight.LIGHT,
        titles=(
            "Sampah menumpuk di TPS dekat {place} tidak diangkut",
            "Pembuangan sampah liar di pinggir {street}",
            "Truk sampah tidak datang ke {village} sudah {days} hari",
        ),
        bodies=(
            "Sampah di TPS dekat {place} sudah {days} hari tidak diangkut, baunya menyengat sampai ke rumah warga "
            "dan banyak lalat. Mohon jadwal pengangkutan diperbaiki.",
            "Di pinggir {street}, {village}, ada tumpukan sampah liar yang makin besar. Orang membuang sampah dari "
            "mobil pada malam hari. Mohon diangkut dan dipasang papan larangan.",
        ),
        progress=("Laporan sudah diteruskan ke UPTD Pengangkutan Sampah wilayah {district}.",),
        final=(
            "Sampah sudah diangkut oleh armada DLH dan jadwal pengangkutan di lokasi ditambah menjadi tiga kali "
            "seminggu. Papan larangan membuang sampah sudah dipasang.",
        ),
        question="Mohon sebutkan lokasi TPS yang dimaksud (nama jalan dan RT/RW).",
    ),
    Topic(
        category="ktp-el",
        route="regional",
        unit="disdukcapil",
        weight=ReportWeight.NORMATIVE,
        titles=(
            "KTP-el belum jadi sejak {months} bulan",
            "Antrean perekaman KTP-el di Disdukcapil sangat panjang",
            "Blangko KTP-el habis di Kecamatan {district}",
        ),
        bodies=(
            "Saya sudah merekam KTP-el di Kecamatan {district} {months} bulan lalu, tetapi sampai sekarang belum "
            "dicetak. Setiap datang selalu dijawab blangko kosong. Saya butuh KTP untuk melamar kerja.",
            "Saya datang ke Disdukcapil jam 6 pagi, nomor antrean sudah habis jam 8. Sudah tiga kali datang dan "
            "belum dilayani. Mohon ada antrean daring atau jemput bola ke kecamatan.",
        ),
        progress=("Data perekaman pelapor sudah kami cek; KTP-el masuk daftar cetak minggu ini.",),
        final=(
            "KTP-el pelapor sudah dicetak dan dapat diambil di Kantor Kecamatan {district} dengan membawa bukti "
            "perekaman. Layanan antrean daring juga sudah dibuka.",
        ),
        question="Mohon sebutkan NIK dan tanggal perekaman KTP-el Anda melalui pesan ini (tidak ditampilkan publik).",
    ),
    Topic(
        category="akta-kelahiran",
        route="regional",
        unit="disdukcapil",
        weight=ReportWeight.NORMATIVE,
        titles=("Pengurusan akta kelahiran anak dipersulit", "Akta kelahiran tidak kunjung terbit"),
        bodies=(
            "Saya mengurus akta kelahiran anak kedua saya sejak {months} bulan lalu. Berkas sudah lengkap, tetapi "
            "petugas selalu meminta syarat tambahan yang berbeda-beda. Mohon kejelasan syaratnya.",
        ),
        progress=("Berkas pelapor sudah kami temukan dan sedang diverifikasi ulang.",),
        final=("Akta kelahiran sudah terbit dan dikirim ke alamat pelapor melalui layanan antar dokumen.",),
        question="Mohon sebutkan nomor registrasi berkas yang tertera di tanda terima.",
    ),
    Topic(
        category="bpjs-kesehatan",
        route="regional",
        unit="dinkes",
        weight=ReportWeight.NORMATIVE,
        titles=("Kartu BPJS Kesehatan PBI tiba-tiba nonaktif", "Pasien BPJS ditolak di Puskesmas {district}"),
        bodies=(
            "Kartu BPJS Kesehatan ibu saya (peserta PBI) tiba-tiba nonaktif saat berobat, padahal tidak ada "
            "pemberitahuan. Kami terpaksa membayar biaya umum. Mohon diaktifkan kembali.",
            "Anak saya demam tinggi dan dibawa ke Puskesmas {district}, tetapi ditolak karena katanya kuota "
            "pasien BPJS hari itu sudah penuh. Apakah memang ada kuota?",
        ),
        progress=("Kami sudah berkoordinasi dengan BPJS Kesehatan Cabang Tangerang mengenai status kepesertaan.",),
        final=(
            "Kepesertaan PBI sudah diaktifkan kembali melalui usulan Dinas Sosial. Puskesmas sudah diingatkan "
            "bahwa tidak ada kuota pasien BPJS.",
        ),
        question="Mohon sebutkan nomor kartu BPJS Kesehatan yang bermasalah.",
    ),
    Topic(
        category="layanan-puskesmas",
        route="regional",
        unit="dinkes",
        weight=ReportWeight.LIGHT,
        titles=("Pelayanan Puskesmas {district} lambat, dokter tidak ada",),
        bodies=(
            "Sudah dua kali saya berobat ke Puskesmas {district} dan menunggu lebih dari tiga jam. Dokter baru "
            "datang jam 11. Mohon jam layanan dokter ditertibkan.",
        ),
        progress=("Kepala Puskesmas sudah kami minta memberikan klarifikasi jadwal dokter.",),
        final=("Jadwal dokter jaga sudah diumumkan di depan puskesmas dan antrean daring sudah diterapkan.",),
        question="Pada tanggal berapa Anda berobat dan di poli apa?",
    ),
    Topic(
        category="pungutan-sekolah",
        route="regional",
        unit="disdik",
        weight=ReportWeight.INVESTIGATION,
        titles=(
            "Pungutan uang seragam dan buku di SDN {village} 1",
            "Iuran komite wajib di SMPN dekat {place}",
        ),
        bodies=(
            "Sekolah meminta orang tua murid membayar Rp850.000 untuk seragam dan buku LKS, katanya wajib. "
            "Padahal sekolah negeri sudah mendapat dana BOS. Kami keberatan.",
            "Setiap bulan kami diminta membayar iuran komite Rp150.000 dan anak yang belum bayar ditegur di "
            "kelas. Mohon diperiksa.",
        ),
        progress=("Tim Inspektorat bersama Dinas Pendidikan akan memeriksa sekolah yang dilaporkan.",),
        final=(
            "Hasil pemeriksaan: pungutan dihentikan dan dana yang sudah dibayarkan akan dikembalikan kepada orang "
            "tua murid melalui komite sekolah.",
        ),
        question="Mohon sebutkan nama sekolah dan kelas anak Anda; identitas Anda kami rahasiakan.",
    ),
    Topic(
        category="ppdb",
        route="regional",
        unit="disdik",
        weight=ReportWeight.NORMATIVE,
        titles=("Zonasi PPDB tidak transparan", "Anak tidak diterima di SMP terdekat padahal rumah dalam zonasi"),
        bodies=(
            "Rumah kami hanya 600 meter dari SMP negeri, tetapi anak kami tidak diterima, sedangkan yang rumahnya "
            "lebih jauh diterima. Mohon hasil seleksi zonasi diumumkan lengkap dengan jaraknya.",
        ),
        progress=("Panitia PPDB sedang memeriksa ulang data jarak domisili pendaftar.",),
        final=("Data jarak sudah diperiksa ulang dan hasil seleksi lengkap diumumkan di laman PPDB.",),
        question="Mohon sebutkan nomor pendaftaran PPDB anak Anda.",
    ),
    Topic(
        category="rambu-lampu-lalu-lintas",
        route="regional",
        unit="dishub",
        weight=ReportWeight.LIGHT,
        titles=("Lampu lalu lintas di simpang {street} mati", "Rambu dilarang parkir tertutup pohon di {street}"),
        bodies=(
            "Lampu lalu lintas di simpang {street} mati sejak {days} hari lalu. Setiap pagi terjadi kemacetan dan "
            "hampir terjadi tabrakan. Mohon segera diperbaiki atau ditempatkan petugas.",
        ),
        progress=("Petugas sudah ditempatkan di simpang tersebut pada jam sibuk selama perbaikan.",),
        final=("Kontroler lampu lalu lintas sudah diganti dan lampu berfungsi normal kembali.",),
        question="Simpang mana yang dimaksud (nama kedua jalan)?",
    ),
    Topic(
        category="angkutan-umum",
        route="regional",
        unit="dishub",
        weight=ReportWeight.LIGHT,
        titles=("Angkot ngetem sembarangan di depan {place}",),
        bodies=(
            "Angkot sering berhenti lama menunggu penumpang di depan {place}, {street}, sehingga jalan macet "
            "setiap sore. Mohon ditertibkan.",
        ),
        progress=("Operasi penertiban angkutan umum dijadwalkan bersama Satlantas.",),
        final=("Penertiban sudah dilakukan dan petugas Dishub berjaga di lokasi pada jam sibuk.",),
        question="Pada jam berapa biasanya kemacetan terjadi?",
    ),
    Topic(
        category="pedagang-kaki-lima",
        route="regional",
        unit="serpong",
        weight=ReportWeight.LIGHT,
        village_prefixes=(SERPONG_PREFIX,),
        titles=("PKL memakan badan jalan di depan {place}", "Trotoar {street} dipakai berjualan"),
        bodies=(
            "Pedagang kaki lima berjualan sampai ke badan jalan di depan {place}. Pejalan kaki terpaksa berjalan "
            "di jalan raya. Mohon ditata agar tetap bisa berjualan tanpa mengganggu.",
        ),
        progress=("Kecamatan bersama Satpol PP sudah mendata pedagang di lokasi untuk direlokasi.",),
        final=("Pedagang sudah direlokasi ke area kuliner di samping pasar; trotoar kembali bisa dilalui.",),
        question="Mohon sebutkan waktu (pagi/sore/malam) ketika pedagang menutup jalan.",
    ),
    Topic(
        category="listrik-padam",
        route="pln",
        unit="",
        weight=ReportWeight.NORMATIVE,
        titles=(
            "Listrik padam berulang kali di {village}",
            "Pemadaman listrik tanpa pemberitahuan selama {hours} jam",
        ),
        bodies=(
            "Dalam seminggu ini listrik di {village}, Kecamatan {district}, padam hampir setiap malam. Peralatan "
            "elektronik warga ada yang rusak. Mohon penjelasan dan perbaikan jaringan.",
            "Kemarin listrik di sekitar {place} padam selama {hours} jam tanpa pemberitahuan. Warga yang memakai "
            "alat bantu napas di rumah sangat dirugikan.",
        ),
        progress=("Petugas PLN UP3 sudah memeriksa gardu; ditemukan trafo kelebihan beban.",),
        final=(
            "Trafo di gardu yang melayani wilayah tersebut sudah diganti dengan kapasitas lebih besar. Jaringan "
            "sudah normal.",
        ),
        question="Mohon sebutkan ID pelanggan PLN Anda agar kami dapat memeriksa gardu yang melayani.",
    ),
    Topic(
        category="tagihan-listrik",
        route="pln",
        unit="",
        weight=ReportWeight.LIGHT,
        titles=("Tagihan listrik pascabayar melonjak tidak wajar",),
        bodies=(
            "Tagihan listrik bulan ini naik tiga kali lipat dibanding bulan lalu padahal pemakaian sama. Mohon "
            "pembacaan meteran diperiksa ulang.",
        ),
        progress=("Petugas akan mendatangi rumah pelapor untuk memeriksa meteran.",),
        final=("Ada kesalahan pencatatan meter; kelebihan tagihan dikompensasikan pada tagihan bulan depan.",),
        question="Mohon sebutkan ID pelanggan dan kirim foto angka meteran saat ini.",
    ),
    Topic(
        category="bantuan-sosial",
        route="kemensos",
        unit="",
        weight=ReportWeight.NO_INVESTIGATION,
        titles=(
            "Bantuan PKH tidak cair sejak {months} bulan",
            "Penerima BPNT di {village} tidak tepat sasaran",
        ),
        bodies=(
            "Keluarga saya terdaftar sebagai penerima PKH, tetapi bantuan tidak cair sejak {months} bulan. Saat "
            "ditanyakan ke pendamping, jawabannya data sedang diperbaiki.",
            "Di RT kami ada penerima BPNT yang rumahnya bertingkat dan punya mobil, sementara janda lansia di "
            "sebelahnya tidak terdaftar. Mohon data penerima di {village} diverifikasi ulang.",
        ),
        progress=("Data pelapor sudah dicek di DTKS dan sedang diverifikasi bersama Dinas Sosial setempat.",),
        final=("Hasil verifikasi: data sudah diperbaiki di DTKS dan bantuan akan disalurkan pada tahap berikutnya.",),
        question="Mohon sebutkan nama kepala keluarga dan nomor KKS (disampaikan tertutup).",
    ),
    Topic(
        category="pohon-ruang-terbuka-hijau",
        route="regional",
        unit="dlh",
        weight=ReportWeight.LIGHT,
        kind=ReportKind.SUGGESTION,
        titles=("Usulan taman bermain anak di {village}", "Usulan penanaman pohon peneduh di {street}"),
        bodies=(
            "Di {village} belum ada ruang terbuka untuk anak bermain. Ada lahan kosong milik pemerintah di dekat "
            "{place} yang bisa dijadikan taman. Mohon dipertimbangkan.",
        ),
        progress=("Usulan sudah kami catat untuk dibahas dalam Musrenbang kecamatan.",),
        final=("Usulan masuk rencana kerja tahun depan dan lokasi sudah disurvei oleh tim DLH.",),
        question="Apakah Anda mengetahui status lahan yang dimaksud?",
    ),
    Topic(
        category="kartu-keluarga",
        route="regional",
        unit="disdukcapil",
        weight=ReportWeight.LIGHT,
        kind=ReportKind.INFORMATION_REQUEST,
        titles=(
            "Mohon informasi jadwal layanan jemput bola Disdukcapil di Kecamatan {district}",
            "Syarat mengubah status perkawinan di Kartu Keluarga",
        ),
        bodies=(
            "Saya ingin mengetahui jadwal layanan keliling Disdukcapil untuk pembuatan Kartu Keluarga di Kecamatan "
            "{district}, serta syarat yang harus dibawa.",
        ),
        progress=("Pertanyaan sudah kami teruskan ke bidang pelayanan.",),
        final=(
            "Layanan jemput bola di Kecamatan {district} dibuka setiap Selasa dan Kamis pukul 08.00-12.00. "
            "Syarat: KK lama, buku nikah, dan KTP-el kedua pasangan.",
        ),
        question="Untuk keperluan apa Kartu Keluarga akan diubah?",
    ),
)

# Reports that the verifying admin archives, one text per reason: (title, body, explanation).
ARCHIVE_TEXTS = {
    ArchiveReason.INCOMPLETE: (
        "Jalan rusak",
        "Tolong diperbaiki secepatnya.",
        "Laporan belum memuat lokasi dan uraian kejadian. Silakan ajukan banding dengan melengkapi lokasi "
        "(nama jalan, kelurahan) dan kronologinya.",
    ),
    ArchiveReason.OUT_OF_SCOPE: (
        "Penipuan arisan online oleh tetangga",
        "Saya tertipu arisan online yang dikelola tetangga saya, kerugian Rp12 juta. Mohon pelaku ditangkap.",
        "Penipuan adalah tindak pidana dan ditangani oleh Kepolisian. Silakan melapor ke kantor polisi "
        "terdekat atau melalui layanan 110.",
    ),
    ArchiveReason.DUPLICATE: (
        "Lampu jalan mati lagi",
        "Lampu jalan di depan rumah saya mati, sama seperti yang sudah dilaporkan tetangga minggu lalu.",
        "Masalah yang sama sudah dilaporkan dan sedang ditindaklanjuti; pantau laporan tersebut.",
    ),
    ArchiveReason.ABUSIVE: (
        "Pegawai kelurahan",
        "Semua pegawai kelurahan pemalas dan tidak berguna!!! Pecat saja semuanya!!!",
        "Laporan berisi kata-kata yang menyerang tanpa uraian masalah layanan. Silakan laporkan kembali "
        "dengan menjelaskan layanan apa yang bermasalah.",
    ),
    ArchiveReason.NOT_PUBLIC_SERVICE: (
        "Sengketa utang piutang dengan teman",
        "Teman saya meminjam uang Rp5 juta dan tidak mau mengembalikan. Mohon dibantu menagih.",
        "Utang piutang antarpribadi bukan pelayanan publik. Silakan menempuh musyawarah atau jalur perdata.",
    ),
}
HOLD_REASONS = (
    "Menunggu hasil koordinasi dengan instansi terkait sebelum didisposisikan.",
    "Lokasi sedang dalam proyek perbaikan provinsi; laporan ditunda sampai proyek selesai.",
)
RETURN_REASON = (
    "Lokasi kejadian berada di wilayah {area}, bukan wewenang {institution}. Mohon didisposisikan ulang ke "
    "pemerintah daerah yang berwenang."
)
DISPUTE_REASONS = (
    "Perbaikannya hanya sebagian, masih ada yang rusak di ujung jalan.",
    "Setelah dua hari masalahnya muncul lagi.",
)
RATING_COMMENTS = {
    5: ("Cepat dan tuntas, terima kasih!", "Terima kasih, petugasnya responsif."),
    4: ("Sudah beres, walau agak lama.", "Terima kasih, semoga dirawat rutin."),
    3: ("Sudah ditangani, tetapi butuh waktu lama.",),
    2: ("Hanya diperbaiki sebagian.",),
    1: ("Tidak ada perubahan berarti di lapangan.",),
}
PUBLIC_COMMENTS = (
    "Di depan rumah saya juga sama, mohon sekalian diperiksa.",
    "Betul, kondisinya sudah lama seperti ini.",
    "Terima kasih sudah melaporkan, semoga cepat ditangani.",
)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Where one demo report ends; ``weight`` is its share of the demo reports."""

    name: str
    status: Status
    weight: int


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("submitted", Status.SUBMITTED, 20),
    Scenario("awaiting_information", Status.AWAITING_INFORMATION, 10),
    Scenario("on_hold", Status.ON_HOLD, 8),
    *(Scenario(f"archived_{reason.value}", Status.ARCHIVED, 3) for reason in ArchiveReason),
    Scenario("dispatched", Status.DISPATCHED, 20),
    Scenario("returned", Status.RETURNED, 8),
    Scenario("in_progress", Status.IN_PROGRESS, 38),
    Scenario("completed", Status.COMPLETED, 18),
    Scenario("closed_confirmed", Status.CLOSED, 35),
    Scenario("closed_deemed_complete", Status.CLOSED, 10),
    Scenario("merged", Status.MERGED, 8),
    Scenario("referred", Status.REFERRED, 6),
)


def scenario_counts(count: int) -> dict[str, int]:
    """How many demo reports end in each scenario: every scenario once before any twice (so that even a
    small demo covers every status), the rest by weight (largest remainders)."""
    counts = {scenario.name: 0 for scenario in SCENARIOS}
    for scenario in SCENARIOS[: max(count, 0)]:
        counts[scenario.name] = 1
    remaining = count - sum(counts.values())
    if remaining <= 0:
        return counts
    total = sum(scenario.weight for scenario in SCENARIOS)
    shares = [(remaining * scenario.weight / total, scenario.name) for scenario in SCENARIOS]
    for share, name in shares:
        counts[name] += int(share)
    leftover = remaining - sum(int(share) for share, _name in shares)
    for _share, name in sorted(shares, key=lambda item: item[0] - int(item[0]), reverse=True)[:leftover]:
        counts[name] += 1
    return counts


def demo_reports_exist() -> bool:
    return Report.objects.filter(
        Q(reporter__email__endswith=DEMO_EMAIL_DOMAIN)
        | Q(guest_email_index__in=[guest_email_key(email) for _name, email, _phone in GUESTS if email])
        | Q(submitted_by__email__endswith=DEMO_EMAIL_DOMAIN)
    ).exists()


@transaction.atomic
def seed_demo_reports(*, count: int = DEMO_REPORT_COUNT, seed: int = DEMO_REPORT_SEED) -> int:
    """File ``count`` demo reports and take each to its scenario's status; returns how many were
    created (0 when demo reports exist already). Needs the demo institutions and accounts."""
    if count <= 0 or demo_reports_exist():
        return 0
    return _Seeder(random.Random(seed)).run(count)  # noqa: S311 (repeatable demo data, not secrets)


@dataclasses.dataclass
class _Filed:
    report: Report
    topic: Topic
    village: Region
    reporter: User | None  # None: a guest, who acts through the private link
    proof: ReporterProof | None = None  # a guest's, from the private link given at filing


class _Seeder:
    def __init__(self, rng: random.Random) -> None:
        from lapor.demo.services import DEMO_PASSWORD, DemoError  # imported late: services calls this module

        self.rng = rng
        self.today = timezone.localdate()
        emails = [NATIONAL_ADMIN, *COORDINATORS.values(), *LIAISON_OFFICERS.values()]
        users = {user.email: user for user in User.objects.filter(email__in=[*emails, *(c[0] for c in CITIZENS)])}
        missing = sorted(set(emails) - users.keys())
        if missing:
            raise DemoError(_("Load the demo accounts first: %(missing)s missing.") % {"missing": ", ".join(missing)})
        self.users = users
        self.citizens: list[User] = []
        for email, full_name, phone in CITIZENS:
            citizen = users.get(email)
            if citizen is None:
                citizen = user_create(full_name=full_name, email=email, phone=phone, password=DEMO_PASSWORD)
            self.citizens.append(citizen)
        self.institutions = {institution.code: institution for institution in Institution.objects.all()}
        self.categories = {category.code: category for category in Category.objects.all()}
        villages = Region.objects.filter(level=4, is_active=True).select_related("parent")
        self.villages: dict[str, list[Region]] = {}
        for prefix in (CITY_PREFIX, REGENCY_PREFIX, SERPONG_PREFIX):
            self.villages[prefix] = list(villages.filter(code__startswith=prefix).order_by("code"))
            if not self.villages[prefix]:
                raise DemoError(_("Load the regions first: lapor regions load"))
        self.survivors: list[_Filed] = []  # open, published reports that duplicates can be merged into
        self.number = 0
        self.now = timezone.now()
        # An anchor fixed every chain as it stood at its time: nothing may be dated before it.
        anchored = AuditAnchor.objects.aggregate(latest=Max("upto"))["latest"]
        self.floor = anchored + timedelta(seconds=1) if anchored else self.now - timedelta(days=365)
        self.clock = DemoClock(self.now)
        self.cap = self.now

    # --- the plan -------------------------------------------------------------------------------

    def run(self, count: int) -> int:
        plan = [name for name, times in scenario_counts(count).items() for _ in range(times)]
        self.rng.shuffle(plan)
        plan.sort(key=lambda name: name == "merged")  # duplicates need their survivors first (a stable sort)
        handlers: dict[str, Callable[[], None]] = {
            "submitted": self.submitted,
            "awaiting_information": self.awaiting_information,
            "on_hold": self.on_hold,
            "dispatched": self.dispatched,
            "returned": self.returned,
            "in_progress": self.in_progress,
            "completed": self.completed,
            "closed_confirmed": self.closed_confirmed,
            "closed_deemed_complete": self.closed_deemed_complete,
            "merged": self.merged,
            "referred": self.referred,
        }
        with demo_clock(self.now) as clock:
            self.clock = clock
            for name in plan:
                if name.startswith("archived_"):
                    self.archived(ArchiveReason(name.removeprefix("archived_")))
                else:
                    handlers[name]()
        return self.number

    # --- scenarios ------------------------------------------------------------------------------

    def submitted(self) -> None:
        # Some reporters choose the government themselves: its coordinator verifies those.
        self.begin(days=(0.05, 4))
        self.file(self.topic(), targeted=self.chance(0.3))

    def awaiting_information(self) -> None:
        # Recent: the reporter's window to answer (10 working days) has not passed yet.
        self.begin(days=(1, 7))
        filed = self.file(self.topic())
        # Asked before verification by the national admin, or afterwards by the unit that has to answer.
        asker = self.national_admin if self.chance(0.5) else self.answerer(filed, self.dispatch(filed))
        self.later(2, 48)
        filed.report = report_request_information(user=asker, report=filed.report, question=filed.topic.question).report

    def on_hold(self) -> None:
        self.begin(days=(3, 25))
        filed = self.file(self.topic(route="regional"))
        resume_on = self.today + timedelta(days=self.rng.randint(7, 30))
        reason = self.rng.choice(HOLD_REASONS)
        if self.chance(0.5):
            holder = self.national_admin
        else:
            self.dispatch(filed, forward=False)
            holder = self.users[COORDINATORS[filed.report.owner.code]]
        self.later(2, 48)
        filed.report = report_hold(user=holder, report=filed.report, reason=reason, resume_on=resume_on).report

    def archived(self, reason: ArchiveReason) -> None:
        title, body, explanation = ARCHIVE_TEXTS[reason]
        self.begin(days=(2, 50))
        filed = self.file(self.topic(), title=title, body=body)
        if reason == ArchiveReason.INCOMPLETE and self.chance(0.5):
            # Asked first; archived once it was clear the details would not come.
            self.later(2, 48)
            filed.report = report_request_information(
                user=self.national_admin, report=filed.report, question=filed.topic.question
            ).report
        self.later(4, 72)
        filed.report = report_archive(
            user=self.national_admin, report=filed.report, reason=reason, explanation=explanation
        ).report

    def dispatched(self) -> None:
        self.begin(days=(1, 10))
        filed = self.file(self.topic(), targeted=self.chance(0.15), private=bool(self.survivors))
        self.dispatch(filed, forward=self.chance(0.5))
        self.remember_survivor(filed)
        self.engage(filed)

    def returned(self) -> None:
        self.begin(days=(1, 12))
        filed = self.file(self.topic(route="regional"))
        # Dispatched to the wrong government: the village lies in the other one.
        in_city = filed.village.code.startswith(CITY_PREFIX)
        wrong = self.institutions["kab-tangerang" if in_city else "kota-tangsel"]
        area = "Kota Tangerang Selatan" if in_city else "Kabupaten Tangerang"
        self.later(2, 48)
        filed.report = report_dispatch(
            user=self.national_admin, report=filed.report, institution=wrong, weight=filed.topic.weight
        ).report
        coordinator = self.users[COORDINATORS[wrong.code]]
        reason = RETURN_REASON.format(area=area, institution=wrong.short_name or wrong.name)
        self.later(1, 24)
        filed.report = report_return(user=coordinator, report=filed.report, reason=reason).report

    def in_progress(self) -> None:
        self.begin(days=(4, 50))
        filed = self.file(self.topic(), targeted=self.chance(0.15), private=bool(self.survivors))
        unit = self.dispatch(filed)
        for message in filed.topic.progress[: self.rng.randint(1, len(filed.topic.progress))]:
            self.follow_up(filed, unit, message)
        self.remember_survivor(filed)
        self.engage(filed)

    def completed(self) -> None:
        # Recent: the reporter's window to reply (10 working days) has not passed yet.
        self.begin(days=(3, 10))
        self.answered()

    def answered(self) -> tuple[_Filed, Institution]:
        filed = self.file(self.topic(), targeted=self.chance(0.15))
        unit = self.dispatch(filed)
        if self.chance(0.6):
            self.follow_up(filed, unit, self.rng.choice(filed.topic.progress))
        self.follow_up(filed, unit, self.rng.choice(filed.topic.final), final=True)
        self.engage(filed)
        return filed, unit

    def closed_confirmed(self) -> None:
        self.begin(days=(10, 56))
        filed, unit = self.answered()
        if self.chance(0.15):
            # The reporter disputes the first answer; the unit finishes the work and answers again.
            self.later(24, 96)
            filed.report = report_dispute(
                user=filed.reporter,
                report=filed.report,
                reason=self.rng.choice(DISPUTE_REASONS),
                proof=filed.proof,
            ).report
            self.follow_up(filed, unit, self.rng.choice(filed.topic.final), final=True)
        self.later(24, 96)
        filed.report = report_confirm(user=filed.reporter, report=filed.report, proof=filed.proof).report
        self.later(0.05, 2)
        rating = self.rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 13, 7, 5))[0]
        filed.report = report_rate(
            user=filed.reporter,
            report=filed.report,
            rating=rating,
            comment=self.rng.choice(RATING_COMMENTS[rating]) if self.chance(0.7) else "",
            proof=filed.proof,
        ).report

    def closed_deemed_complete(self) -> None:
        # Answered long enough ago for the reporter's 10 working days to pass in silence.
        self.begin(days=(28, 56), until=timedelta(days=17))
        filed, _unit = self.answered()
        self.let_clock_pass(filed.report, Clock.REPORTER_REPLY)
        closed = report_deem_complete(report=filed.report)
        if closed is None:
            raise RuntimeError(f"Demo report {filed.report.tracking_id} could not be deemed complete.")
        filed.report = closed.report

    def merged(self) -> None:
        if not self.survivors:  # a demo too small to have one: file it first
            self.dispatched()
        survivor = self.rng.choice(self.survivors)
        title = self.rng.choice(survivor.topic.titles)
        self.begin(days=(0.5, 20), not_before=survivor.report.created_at + timedelta(hours=1))
        filed = self.file(survivor.topic, title=title, village=survivor.village)
        self.later(2, 48)
        filed.report = report_merge(
            user=self.national_admin,
            report=filed.report,
            into=survivor.report,
            note=f"Laporan yang sama dengan {survivor.report.tracking_id}.",
        ).report

    def referred(self) -> None:
        # Filed more than the overall 60 days ago, so that the reporter may take it to the Ombudsman.
        self.begin(days=(64, 80), until=timedelta(days=2))
        filed = self.file(self.topic())
        unit = self.dispatch(filed)
        if self.chance(0.5):
            self.follow_up(filed, unit, self.rng.choice(filed.topic.progress))
        self.let_clock_pass(filed.report, Clock.OVERALL)
        filed.report = report_refer(user=filed.reporter, report=filed.report, proof=filed.proof).report

    # --- steps ----------------------------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def begin(
        self, *, days: tuple[float, float], until: timedelta = timedelta(minutes=5), not_before: datetime | None = None
    ) -> None:
        """Set the demo clock to a new report's submission, a random ``days`` ago (never before
        ``not_before`` or the latest anchor); its later steps all happen before ``now - until``."""
        start = self.now - timedelta(days=self.rng.uniform(*days))
        start = max(start, not_before or start, self.floor)
        self.cap = max(self.now - until, start)
        self.clock.set(min(start, self.cap))

    def later(self, low_hours: float, high_hours: float) -> None:
        """Move the demo clock on by ``low_hours`` to ``high_hours``, or by half the time left before the
        story must end, whichever is less: a step never reaches the present."""
        gap = timedelta(hours=self.rng.uniform(low_hours, high_hours))
        room = max(self.cap - self.clock.moment, timedelta(0))
        self.clock.set(self.clock.moment + min(gap, room / 2))

    @property
    def national_admin(self) -> User:
        return self.users[NATIONAL_ADMIN]

    def topic(self, *, route: str | None = None) -> Topic:
        topics = [topic for topic in TOPICS if route is None or topic.route == route]
        return self.rng.choice(topics)

    def file(
        self,
        topic: Topic,
        *,
        title: str = "",
        body: str = "",
        village: Region | None = None,
        targeted: bool = False,
        private: bool = True,
    ) -> _Filed:
        """File a report about ``topic`` from a random village, reporter and channel. ``private``: it may
        be anonymous or confidential (the first report duplicates can be merged into must be public)."""
        rng = self.rng
        village = village or rng.choice(self.villages[rng.choice(topic.village_prefixes)])
        in_city = village.code.startswith(CITY_PREFIX)
        district = village.parent.name if village.parent else ""
        street = rng.choice(STREETS).format(village=village.name, district=district)
        words = {
            "village": village.name,
            "district": district,
            "street": street,
            "days": rng.randint(3, 21),
            "months": rng.randint(2, 8),
            "hours": rng.randint(4, 12),
            "count": rng.randint(3, 9),
        }
        submitted_on = timezone.localdate()  # the demo clock's day
        words["place"] = rng.choice(PLACES).format(**words)
        self.number += 1
        reporter: User | None = None
        guest_name = guest_email = guest_phone = ""
        channel = rng.choices(
            (Channel.WEB, Channel.API, Channel.EMAIL, Channel.SOCIAL, Channel.SMS), weights=(55, 15, 12, 8, 10)
        )[0]
        # The first report comes from the demo citizen: its presence is what marks the demo as loaded.
        if self.number == 1 or self.chance(0.7):
            reporter = self.citizens[0] if self.number == 1 else rng.choice(self.citizens)
        else:
            guest_name, guest_email, guest_phone = rng.choice(GUESTS)
            channel = Channel.SMS if not guest_email else rng.choice((Channel.WEB, Channel.EMAIL))
        latitude = longitude = None
        if channel in (Channel.WEB, Channel.API) and self.chance(0.6):
            centre = CENTRES[CITY_PREFIX if in_city else REGENCY_PREFIX]
            latitude = centre[0] + Decimal(rng.randint(-400, 400)) / 10000
            longitude = centre[1] + Decimal(rng.randint(-600, 600)) / 10000
        government = self.institutions["kota-tangsel" if in_city else "kab-tangerang"]
        filed = report_submit(
            title=(title or rng.choice(topic.titles).format(**words))[:200],
            body=body or rng.choice(topic.bodies).format(**words),
            incident_date=submitted_on - timedelta(days=rng.randint(0, 40)),
            kind=topic.kind,
            reporter=reporter,
            guest_name=guest_name,
            guest_email=guest_email,
            guest_phone=guest_phone,
            category=self.categories.get(topic.category),
            village_code=village.code,
            latitude=latitude,
            longitude=longitude,
            address=f"{street}, RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}, {village.name}, {district}",
            target_institution=government if targeted and topic.route == "regional" else None,
            channel=channel,
            is_anonymous=private and self.chance(0.15),
            is_confidential=private and (topic.category == "pungutan-sekolah" or self.chance(0.06)),
            idempotency_key=f"{IDEMPOTENCY_PREFIX}{self.number:04d}",
        )
        report, secret = filed.report, filed.secret
        proof = reporter_proof_by_link(report.tracking_id, secret)[1] if reporter is None and secret else None
        return _Filed(report=report, topic=topic, village=village, reporter=reporter, proof=proof)

    def government(self, filed: _Filed) -> Institution:
        return self.institutions["kota-tangsel" if filed.village.code.startswith(CITY_PREFIX) else "kab-tangerang"]

    def dispatch(self, filed: _Filed, *, forward: bool = True) -> Institution:
        """Verify and dispatch to the institution with authority, then (regional topics) forward to the
        unit. Returns the institution whose staff answer: the unit, or the owner itself."""
        report, topic = filed.report, filed.topic
        owner = self.institutions[topic.route] if topic.route != "regional" else self.government(filed)
        copies = [self.government(filed)] if topic.route == "kemensos" else []
        if report.owner.code == owner.code and owner.code in COORDINATORS:
            # The reporter chose this government: its own coordinator verifies the report.
            verifier = self.users[COORDINATORS[owner.code]]
        else:
            verifier = self.national_admin
        self.later(2, 60)
        filed.report = report_dispatch(
            user=verifier,
            report=report,
            institution=owner,
            weight=topic.weight,
            copies=copies,
            note="Diverifikasi: lengkap dan menjadi wewenang instansi tujuan.",
        ).report
        if topic.route != "regional" or not topic.unit:
            return owner
        unit = self.institutions[f"{owner.code}-{topic.unit}"]
        if forward:
            self.later(1, 20)
            filed.report = report_forward(
                user=self.users[COORDINATORS[owner.code]],
                report=report,
                units=[unit],
                note=f"Mohon ditindaklanjuti oleh {unit.short_name or unit.name}.",
            ).report
            return unit
        return owner

    def answerer(self, filed: _Filed, unit: Institution) -> User:
        """The unit's liaison officer where the demo has one; otherwise the owner's coordinator, who
        answers as the owner's own officer."""
        if unit.code in LIAISON_OFFICERS:
            return self.users[LIAISON_OFFICERS[unit.code]]
        return self.users[COORDINATORS[filed.report.owner.code]]

    def follow_up(self, filed: _Filed, unit: Institution, message: str, *, final: bool = False) -> None:
        district = filed.village.parent.name if filed.village.parent else ""
        if final:
            self.later(24, 168)
        else:
            self.later(20, 120)
        filed.report = report_follow_up(
            user=self.answerer(filed, unit),
            report=filed.report,
            message=message.format(district=district),
            final=final,
        ).report

    def remember_survivor(self, filed: _Filed) -> None:
        if not filed.report.is_confidential:
            self.survivors.append(filed)

    def engage(self, filed: _Filed) -> None:
        """Now and then other citizens support a published report, and comment on it."""
        report = filed.report
        if report.is_confidential or not self.chance(0.25):
            return
        others = [citizen for citizen in self.citizens if citizen.pk != report.reporter_id]
        for citizen in self.rng.sample(others, self.rng.randint(1, 3)):
            self.later(1, 48)
            filed.report = report_support(user=citizen, report=filed.report)
        if self.chance(0.5):
            self.later(1, 48)
            self.comment(filed)

    def comment(self, filed: _Filed) -> None:
        report = filed.report
        if report.is_confidential or report.status not in (Status.DISPATCHED, Status.IN_PROGRESS, Status.COMPLETED):
            return
        citizen = self.rng.choice([citizen for citizen in self.citizens if citizen.pk != report.reporter_id])
        report_comment(user=citizen, report=report, message=self.rng.choice(PUBLIC_COMMENTS))

    def let_clock_pass(self, report: Report, clock: Clock) -> None:
        """Let the running clock's deadline pass, so that what the service does then (deem complete,
        refer) can be shown: the demo clock moves to just after it. Should the deadline still lie in
        the future (a report whose story ended too late), the deadline is moved into the past
        instead, for demo data only."""
        running = ReportClock.objects.filter(report=report, clock=clock, stopped_at__isnull=True).first()
        if running is not None:
            after = running.due_at + timedelta(hours=self.rng.uniform(1, 24))
            if after < self.now - timedelta(minutes=1):
                self.clock.set(max(after, self.clock.moment))
                return
        past = timezone.now() - timedelta(minutes=1)
        moved = ReportClock.objects.filter(report=report, clock=clock, stopped_at__isnull=True).update(
            due_at=past, yellow_at=past
        )
        if moved != 1:
            raise RuntimeError(f"Demo report {report.tracking_id} has no running {clock} clock.")
