"""Line-end hyphen cases: (wrapped lines, joined text). Every reader that joins
wrapped lines (PDF, plain text) must agree on them (pipeline/extract/hyphens.py)."""

HYPHEN_CASES = [
    (["vården av barn-", "och ungdomspsykiatrin (BUP)."], "vården av barn- och ungdomspsykiatrin (BUP)."),
    (["Arbetsmarknads-", "och socialförvaltningen svarar."], "Arbetsmarknads- och socialförvaltningen svarar."),
    (["kvinno-", "eller mansjourer."], "kvinno- eller mansjourer."),
    (["kommun-", "samt regionnivå."], "kommun- samt regionnivå."),
    (["barn-", "respektive vuxenpsykiatrin."], "barn- respektive vuxenpsykiatrin."),
    (["brotts-", "som drogförebyggande."], "brotts- som drogförebyggande."),
    (["barn-", ", ungdoms- och vuxenvård."], "barn-, ungdoms- och vuxenvård."),
    (["det brottsföre-", "byggande arbetet."], "det brottsförebyggande arbetet."),
    (["samverkan med ungdoms-", "psykiatrin."], "samverkan med ungdomspsykiatrin."),
    (["EU-", "medel söks."], "EU-medel söks."),
    (["sedan 1990-", "talet."], "sedan 1990-talet."),
    (["sträckan Malmö-", "Lund."], "sträckan Malmö-Lund."),
    (["ett stycke -", "med tankstreck."], "ett stycke - med tankstreck."),
    (["Chefer och HR-", "konsulter behöver kunskap."], "Chefer och HR-konsulter behöver kunskap."),
    (["utsätts homo-, bi-,", "trans- och queerpersoner."], "utsätts homo-, bi-, trans- och queerpersoner."),
    (["hälso- och sjuk-", "vården."], "hälso- och sjukvården."),
]
