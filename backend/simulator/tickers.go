package simulator

import (
	"hash/fnv"
	"math"
	"strings"
)

// builtinTickers is the simulated market behind "*" subscriptions: real US
// listings (mostly S&P 500 members) so the dashboard looks familiar. Dotted
// share classes are included on purpose; they exercise the first-dot split.
var builtinTickers = strings.Fields(`
AAPL MSFT NVDA AMZN GOOGL GOOG META BRK.B BRK.A AVGO TSLA LLY JPM V UNH XOM MA JNJ PG HD
COST MRK ABBV CVX ADBE CRM PEP KO WMT BAC NFLX TMO MCD CSCO ACN ABT LIN AMD ORCL DIS
WFC INTC DHR TXN PM VZ CMCSA NEE INTU IBM AMGN QCOM UNP CAT HON SPGI GE LOW BA RTX AMAT
GS NKE PFE ISRG BKNG SBUX MS ELV BLK T PLD MDT DE SYK LMT TJX ADP GILD MMC VRTX AXP CVS
ADI MDLZ REGN C CB LRCX SCHW ZTS CI MO SO PGR ETN BSX BDX TMUS SLB DUK EOG NOC ITW MU
CME EQIX APD PANW SNPS AON CDNS CSX KLAC SHW ICE FCX CL WM HUM ORLY MCK MPC GD FDX PYPL
EMR NSC TGT PSX MAR ROP MCO CMG APH USB PNC AJG HCA AZO ECL MSI NXPI CTAS PH TT ADSK AIG
TDG OXY WELL SRE CARR F GM TFC MET KMB AFL DXCM EW HLT PCAR VLO PSA COF O TRV ADM IDXX
FTNT MNST STZ CCI ROST KDP HES DHI MCHP WMB JCI ALL BK NEM GWW YUM SPG KMI MSCI IQV AMP
LHX D AEP CPRT PAYX DOW ODFL AME FAST PRU CTVA HSY FIS EXC OTIS KVUE BIIB CSGP GIS CMI
SYY LEN PEG A EA KR ED VRSK CTSH URI XEL PWR IR HAL GEHC ROK ACGL DD FANG CHTR EL MLM
VMC DG NUE DLTR EXR BKR VICI WEC CDW HIG MTD ON KHC ANSS RMD AWK PPG DVN EFX GPN IT CBRE
TSCO WTW XYL HPQ EIX KEYS ZBH GLW FITB EBAY MTB WST STT TROW RJF CAH BR DOV FTV NTAP HPE
LYB ETR WBD DAL STE TTWO IFF HUBB CHD NVR BALL PHM LUV WAB EXPE TYL MPWR PTC SMCI
UBER ABNB SNOW PLTR COIN SHOP SQ RIVN LCID SOFI HOOD DKNG ROKU ZM DOCU CRWD NET DDOG MDB
OKTA TWLO U PINS SNAP LYFT SPOT SE MELI BABA JD PDD NIO BIDU TSM ASML SAP TM SONY HMC
BF.B BF.A LEN.B HEI.A MOG.A
`)

// famousPrices anchors a few large caps near their real order of magnitude;
// everything else gets a hash-derived price so runs are reproducible.
var famousPrices = map[string]float64{
	"AAPL": 225, "MSFT": 420, "NVDA": 125, "AMZN": 185, "GOOGL": 170, "GOOG": 172,
	"META": 520, "BRK.B": 440, "BRK.A": 660000, "AVGO": 165, "TSLA": 240, "LLY": 900,
	"JPM": 210, "V": 275, "UNH": 560, "XOM": 115, "MA": 470, "COST": 880, "NFLX": 680,
	"AMD": 150, "INTC": 22, "F": 11, "T": 20, "BAC": 40, "WMT": 80, "KO": 70, "DIS": 95,
	"PLTR": 38, "SOFI": 9, "NIO": 5, "LCID": 3,
}

// startPrice is deterministic in (symbol, seed) so two runs with one seed open
// identically, and log-uniform in 10..900 so magnitudes look like a real tape.
func startPrice(sym string, seed int64) float64 {
	h := symHash(sym, seed)
	if p, ok := famousPrices[sym]; ok {
		// +-3% so different seeds do not open every large cap at the same print.
		frac := float64(h%6001)/100000 - 0.03
		return roundPrice(p * (1 + frac))
	}
	u := float64(h>>11) / float64(1<<53)
	return roundPrice(10 * math.Exp(u*math.Log(90)))
}

func symHash(sym string, seed int64) uint64 {
	f := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(seed) >> (8 * i))
	}
	_, _ = f.Write(b[:])
	_, _ = f.Write([]byte(sym))
	return mix64(f.Sum64())
}

// mix64 is splitmix64's finalizer: FNV's high bits barely change between
// short symbols, which put most hash-priced tickers near the same price.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// roundPrice keeps cents above a dollar and four decimals below, as US equities trade.
func roundPrice(p float64) float64 {
	if p >= 1 {
		return math.Round(p*100) / 100
	}
	return math.Round(p*10000) / 10000
}
