from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    REGENCY = 2, _("Regency or city")
    DISTRICT = 3, _("District")
    VILLAGE = 4, _("Village")


class RegionKind(models.TextChoices):
    PROVINCE = "provinsi", _("Province")
    REGENCY = "kabupaten", _("Regency")
    CITY = "kota", _("City")
    DISTRICT = "kecamatan", _("District")
    RURAL_VILLAGE = "desa", _("Village (desa)")
    URBAN_VILLAGE = "kelurahan", _("Urban village (kelurahan)")
