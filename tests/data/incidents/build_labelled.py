"""Builds labelled.jsonl: the clustering quality set, written by hand for this project.

Clusters are real-world-shaped incidents: several people describing one problem in their own words
(hand-written paraphrases, each posted by a few customers with their own opener and closer). The
singletons are hand-written one-off problems in the same departments, many on the same topics as the
clusters (a lost bag is not a baggage-system outage), so precision is tested, not assumed.

    .venv/bin/python tests/data/incidents/build_labelled.py   # rewrites labelled.jsonl, deterministic
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLUSTERS: dict[str, tuple[str, int, list[str]]] = {
    # name: (department, how many cases, paraphrases)
    "app-login-outage": (
        "airport",
        40,
        [
            "the app will not let me log in, it says my password is wrong but I just reset it",
            "app keeps logging me out and won't accept my password, can't check in",
            "cannot log in to the app this morning, login screen just spins and fails",
            "your app login is broken, error every time I enter my password",
            "app says invalid password then locks me out, check in impossible",
            "logging in to the app fails with an unknown error, tried reinstalling",
            "the login page in the app is stuck, can't get to my boarding pass",
            "app won't log me in and the password reset email never arrives",
            "is the app down? login fails for me and my husband on two phones",
            "app login error again, can't reach my trip or boarding pass",
        ],
    ),
    "lhr-t5-carousel": (
        "baggage",
        24,
        [
            "belt 7 at Heathrow terminal 5 stopped, bags from the Boston flight are not coming out",
            "waiting at carousel 7 in T5 for over an hour, the belt is broken and no bags",
            "baggage belt at Heathrow T5 not moving, nobody from staff around, still no suitcases",
            "T5 baggage reclaim belt 7 has been stuck for ages, hundreds of us waiting for luggage",
            "the carousel at Heathrow terminal 5 broke down, our bags are sitting behind the wall",
            "no bags on belt 7 at LHR terminal 5, screen says delivering but the belt is stopped",
            "Heathrow T5 reclaim is chaos, the carousel stopped and bags are not being unloaded",
            "still standing at T5 belt 7, broken carousel, no information about our suitcases",
        ],
    ),
    "fare-sale-double-charge": (
        "reservations",
        30,
        [
            "I was charged twice for the same booking during the flash sale",
            "booked in the flash sale and my card shows two identical charges for one ticket",
            "double charged for my booking in the fare sale, the second payment is pending on my card",
            "the sale booking took the payment twice, same amount, one reservation",
            "my bank shows two charges from the flash sale booking, only one ticket issued",
            "flash sale checkout charged my card twice, I need the duplicate payment refunded",
            "charged two times for one sale fare, booking confirmation shows one payment",
            "got billed twice for the flash sale fare, duplicate charge on my credit card",
            "payment went through twice when I booked the sale fare, please reverse one charge",
        ],
    ),
    "sk118-denver-crew-delay": (
        "operations",
        22,
        [
            "SK 118 to Denver delayed again, they say waiting for crew",
            "flight 118 to Denver has been pushed back three times for a missing crew",
            "still at the gate for SK118 to Denver, no crew, no updates, delay keeps growing",
            "Denver flight SK 118 delayed because the crew has not arrived, any estimate",
            "crew shortage on SK 118 to Denver, now delayed four hours and counting",
            "our Denver flight 118 is delayed waiting for a replacement crew, what is happening",
            "SK 118 DEN delay, gate agent says the crew timed out, when will we leave",
        ],
    ),
    "a321-wifi-portal": (
        "inflight",
        20,
        [
            "wifi on board keeps sending me back to the payment page after I paid",
            "paid for inflight wifi and the portal just loops to the purchase screen",
            "onboard wifi portal broken, charged me but never connects",
            "the inflight wifi login loops, I paid twice and still no connection",
            "wifi purchase on the plane went through but the portal won't let me online",
            "inflight wifi keeps asking me to pay again after payment, no internet at all",
            "bought the wifi pass on board, the portal keeps redirecting to the payment page",
        ],
    ),
    "call-centre-dropping": (
        "customer_care",
        26,
        [
            "your phone line hangs up on me after 40 minutes on hold every single time",
            "call centre keeps disconnecting after the hold music, tried five times",
            "on hold for an hour then the call just drops, this is the third time",
            "the customer service number cuts off after the hold message, nobody ever answers",
            "calls to your service line drop as soon as they say an agent is next",
            "phone support disconnects me every time after a long hold, cannot reach anyone",
            "the hotline puts me on hold and then hangs up, customer service is unreachable",
            "hold for 50 minutes then the line goes dead, happened twice today",
        ],
    ),
    "partner-miles-missing": (
        "reservations",
        16,
        [
            "miles from my partner airline flight never posted to my account",
            "flew on the partner airline last month and the miles are still not credited",
            "partner flight miles missing from my frequent flyer account after six weeks",
            "my miles for the codeshare partner flight have not been credited yet",
            "partner airline trip not showing in my miles account, no credit at all",
            "frequent flyer account missing the miles from two partner flights",
        ],
    ),
    "jfk-t2-kiosks": (
        "airport",
        18,
        [
            "all the check in kiosks at JFK terminal 2 are offline, the line is huge",
            "JFK T2 kiosks are down, only one agent at the counter, queue out the door",
            "terminal 2 JFK self check in machines not working, everyone stuck in line",
            "kiosks offline at JFK terminal 2, bag drop line barely moving",
            "none of the kiosks work at JFK T2, we are going to miss the flight in this line",
            "check in machines at JFK terminal two broken, massive queue at the counters",
        ],
    ),
    "boston-snow-rebooking": (
        "operations",
        30,
        [
            "flight from Boston cancelled for the snowstorm and the rebooking puts me three days later",
            "BOS cancellation due to snow, the rebook option is Thursday, I need to get home sooner",
            "snowstorm cancelled our Boston flight and there is no rebooking before the weekend",
            "cancelled out of Boston because of the storm, how do I get rebooked on an earlier flight",
            "Boston flight cancelled for the blizzard, the app rebooked me on a flight days later",
            "storm cancellation in Boston, rebooking line is hours long, need a new flight",
            "my BOS flight got cancelled by the snowstorm and rebooking shows nothing until Friday",
            "the blizzard cancelled our flight out of Boston, please rebook us on something sooner",
        ],
    ),
    "sk530-bags-left": (
        "baggage",
        18,
        [
            "our whole flight from Madrid arrived without bags, SK 530 left the luggage behind",
            "SK530 from Madrid landed and none of the bags were loaded",
            "Madrid flight 530 came in with no luggage at all, they say the bags stayed in Madrid",
            "every passenger on SK 530 from Madrid is missing their suitcase",
            "landed on 530 from Madrid and the bags never got on the plane, when will they arrive",
            "all luggage from the Madrid flight SK 530 was left behind, whole plane at the baggage desk",
        ],
    ),
    "promo-code-rejected": (
        "reservations",
        20,
        [
            "the WINTER20 promo code is rejected at checkout, says invalid",
            "promo code WINTER20 not working on the booking page, it was in your email",
            "checkout says the WINTER20 code is expired but the email says valid until Sunday",
            "your WINTER20 discount code gives an error when I try to book",
            "WINTER20 code from the newsletter does not apply at payment",
            "tried the WINTER20 promo three times, booking page says code not recognised",
        ],
    ),
    "confirmation-email-missing": (
        "customer_care",
        18,
        [
            "booked yesterday and never got a confirmation email",
            "no confirmation email after booking, checked spam too",
            "confirmation email for my booking never arrived, card was charged",
            "still waiting for the booking confirmation email, is my reservation real",
            "did not receive any confirmation email after paying for my flights",
            "confirmation email missing for a booking made this morning, nothing in junk either",
        ],
    ),
}

OPENERS = ["", "", "@SkylarkAir ", "@SkylarkHelp ", "hey @SkylarkAir ", "Skylark Air, ", "@SkylarkAir hi, "]
CLOSERS = [
    "",
    "",
    "",
    " Anyone else?",
    " Please fix this.",
    " Ridiculous.",
    " What is going on?",
    " Help please.",
    " Any update?",
    " Not impressed.",
    " Is this happening to everyone?",
    " :(",
]

SINGLETONS: dict[str, list[str]] = {
    "baggage": [
        "my suitcase came off the belt in Denver with a broken wheel and a torn handle",
        "lost my bag on the connection in Chicago, file reference CHI 4411, any news",
        "the baggage desk in Lisbon closed before I could report my missing duffel",
        "my golf clubs arrived but the travel case was cracked open",
        "a bottle of olive oil broke in my checked bag, was it mishandled by your staff",
        "bag tag says Atlanta but I flew to Austin, where is my luggage now",
        "delivered the wrong suitcase to my hotel, someone else's name on the tag",
        "stroller was not returned at the aircraft door in Orlando, we had to carry the baby",
        "my wheelchair was damaged in the hold, the footrest is bent",
        "how much does a second checked bag cost on the Paris route",
        "my bag was delayed four days, how do I claim for the clothes I had to buy",
        "the zip on my new suitcase was ripped and the lock is gone",
        "found my bag opened with a TSA note but my headphones are missing",
        "guitar checked as fragile came back with a cracked neck",
        "excess baggage fee at the counter was twice what the website says",
        "my bag went to Madrid while I went to Milan, any idea when it comes back",
        "the baggage tracker link in the text message shows an error page",
        "ski bag arrived soaking wet and the boots inside are ruined",
        "my carry on was forced into the hold at the gate and now the laptop screen is cracked",
        "baby car seat missing after the flight from Toronto",
        "the claim form for damaged baggage will not accept my receipt upload",
        "bag delivered to my house with a different padlock on it",
        "my medication was in the checked bag that is lost, this is urgent",
        "one of my two suitcases arrived, the other is still missing since Tuesday",
        "can I get compensation for a bag that came 36 hours late",
        "paid for priority baggage and my case was the last one out",
        "the lost luggage hotline number on the receipt does not exist",
        "my surfboard was left in Honolulu, was told it would be on the next flight",
        "handle of my suitcase snapped off, the staff at the desk said contact online",
        "my dog crate arrived with a broken door, thankfully he is fine but this is scary",
    ],
    "operations": [
        "SK 77 to Rome was diverted to Naples and now we have no transport",
        "flight to Phoenix cancelled at midnight, no hotel voucher offered",
        "missed my connection in Atlanta because the first flight left late",
        "why does the gate screen say on time when the plane is not even here",
        "my flight to Seattle was moved six hours earlier and nobody told me",
        "stuck on the tarmac in Newark for two hours with no air conditioning",
        "SK 902 cancelled with zero explanation, the app wants to rebook me next week",
        "rebooked onto a flight that leaves before my original one landed, that makes no sense",
        "schedule change took away my direct flight, now there are two stops",
        "is SK 340 to Lima going today, the status page says unknown",
        "delayed overnight in Dallas, what are my rights for compensation",
        "our flight to Cancun was delayed for a bird strike, when will the new plane come",
        "the pilot said a fuel issue, we have been sitting for ninety minutes",
        "flight to Vancouver turned back after takeoff, what happens with the connection",
        "my Christmas flight to Oslo got cancelled a week ahead, there are no other flights",
        "we landed but there is no gate, kept on board for an hour",
        "gate changed three times in Frankfurt and nobody announced it",
        "connection time in Miami is only 35 minutes after the schedule change, is that legal",
        "delayed because of a broken toilet, is that really a reason to hold the plane",
        "flight to Nairobi cancelled and the rebooking is with another airline I have never heard of",
        "can you hold the connecting flight in Houston, we are landing late",
        "the crew said air traffic control, but all the other airlines are leaving",
        "we were offloaded for weight on a small plane to Aspen, what now",
        "our flight to Athens landed in Thessaloniki because of fog",
        "my flight leaves in two hours and I just got a text it is delayed to tomorrow",
        "missed the last ferry because the flight to Split was four hours late",
        "flight number changed and now my hotel transfer cannot find the booking",
        "delayed again on the Lagos route, third week in a row",
        "how do I request EU261 compensation for the delay on SK 61",
        "overnight delay in Reykjavik, hotel says they have no booking from you",
    ],
    "reservations": [
        "how do I add my miles number to a booking I already made",
        "the seat map shows no window seats but my friend just got one",
        "I need to change the name on my ticket, it has a typo",
        "refund for my cancelled flight still not received after eight weeks",
        "can I use two vouchers on one booking",
        "my upgrade bid was accepted but the boarding pass still says economy",
        "the change fee to move my flight one day is more than the ticket",
        "booked a child as an adult by mistake, can this be fixed",
        "my frequent flyer status dropped even though I flew enough segments",
        "travel credit expired while I was in hospital, can it be extended",
        "why is the same fare cheaper in the app than on the website",
        "booked a hotel and flight package and the hotel part disappeared",
        "the website made me pay for seat selection twice on a return trip",
        "how do I cancel within 24 hours for a full refund",
        "I booked the wrong date, can I change it without paying",
        "the gift card balance is not accepted at checkout",
        "need an invoice with my company name for a business trip",
        "lap infant not showing on the reservation after I added them by phone",
        "points booking failed but the points were taken from my account",
        "my companion ticket from the credit card cannot be applied online",
        "the fare class on my ticket does not earn miles, I was not told",
        "seat I paid for was given to someone else, how do I get the money back",
        "can I bring my booking forward a day for a family emergency",
        "want to add a pet in cabin to an existing booking",
        "booking for a group of twelve, who do I talk to",
        "the award calendar shows availability but every date fails at payment",
        "my student discount was removed when I changed the flight",
        "how long does a refund to a debit card take",
        "the price went up between the search page and the payment page",
        "unaccompanied minor service was charged but not added to the booking",
    ],
    "airport": [
        "the check in line at terminal 2 in Chicago has not moved in 40 minutes",
        "lounge in Dallas refused entry even though my ticket includes it",
        "gate agent in Miami was rude to my elderly mother",
        "the security fast track line was closed even though I paid for it",
        "where is the Skylark counter in Lisbon airport, the signs are confusing",
        "wheelchair assistance never showed up at the gate in Boston",
        "boarding started early and the gate closed before the posted time",
        "bag drop in Barcelona only opens two hours before, the sign says three",
        "the lounge shower in London was dirty and had no towels",
        "agent at the counter charged me for a bag that should be free with my status",
        "boarding group 1 was called after group 3, what was that",
        "the kiosk in Denver printed my boarding pass with the wrong name",
        "pregnant and was not allowed to pre board, the gate agent laughed",
        "can I check in at the airport without paying a counter fee",
        "the transfer desk in Frankfurt is closed and my onward boarding pass never printed",
        "check in staff in Bogota asked for a visa I do not need",
        "the gate in Houston is a bus gate with no seating for two hours",
        "lost my passport at security, who at the airport can help",
        "they denied boarding because the flight was oversold, what compensation",
        "boarding pass scanner rejected my pass three times and I was pulled aside",
        "the priority lane at the Madrid counter was serving everyone",
        "can I bring my own wheelchair to the gate in Seattle",
        "the lounge in Newark ran out of food by noon",
        "my TSA precheck number is not printing on the boarding pass",
        "the check in counter in Accra opened an hour late",
        "no staff at the gate in Tampa twenty minutes before departure",
        "the airport app map sends me to the wrong terminal in Sao Paulo",
        "family with a toddler separated at boarding because of zones",
        "long wait for a gate agent to print a seat assignment in Portland",
        "airport staff in Rome told us the flight was cancelled but it left without us",
    ],
    "inflight": [
        "the seat in 14C does not recline and the tray table is broken",
        "crew ran out of vegetarian meals before reaching row 20",
        "screen in 22A was dead for the whole ten hour flight",
        "flight attendant on SK 212 was amazing with my anxious son",
        "the cabin was freezing all the way to Anchorage",
        "no pillows or blankets on an overnight flight, really",
        "the lavatory at the back was out of order for the whole flight",
        "ordered a gluten free meal and got pasta",
        "power outlet at my seat did not work and my phone died",
        "the headphones handed out only work in one ear",
        "attendant spilled coffee on my laptop, who pays for the repair",
        "seat cushion in 31F was torn and stained",
        "the snack box was sold out by row 8",
        "crew member shouted at a passenger for standing up after landing",
        "child meal was ordered for my daughter but nothing came",
        "the movie selection has not changed in six months",
        "reading light in 9D kept flickering all night",
        "the cabin smelled of fuel during boarding, is that normal",
        "my seat neighbour was drunk and the crew kept serving him",
        "premium economy footrest missing on the whole row",
        "the water ran out on a five hour flight",
        "bassinet seat was given away even though I booked it for my baby",
        "the entertainment system kept rebooting every twenty minutes",
        "no halal meal despite ordering it three weeks before",
        "tray table in 18B covered in sticky juice",
        "crew would not let me use the front toilet with a toddler",
        "the duty free trolley never came to the back of the plane",
        "window shade in 27A is stuck half closed",
        "my noise cancelling headphones do not fit the seat jack",
        "flight attendant refused to help lift my bag into the overhead bin",
    ],
    "customer_care": [
        "I have written three emails about my complaint and nobody replies",
        "the chat agent closed the conversation while I was typing",
        "your complaint form on the website keeps timing out",
        "agent on the phone promised a call back that never came",
        "I was told a manager would contact me in 48 hours, it has been two weeks",
        "the chatbot keeps sending me to the same FAQ page",
        "my case number from last month shows as closed but nothing was fixed",
        "who can I talk to about accessibility for a blind passenger",
        "your staff in the Boston office were extremely rude on the phone",
        "the survey after my flight would not let me submit",
        "I want to make a formal complaint about discrimination at the gate",
        "I need a letter confirming my delay for my employer",
        "the callback feature says it will call me in 3 minutes, it never does",
        "I was promised 5000 miles as goodwill, still not there",
        "how do I update my email address on my account",
        "I keep getting marketing emails after unsubscribing five times",
        "customer relations answered in German although I wrote in English",
        "the social media team told me to DM and then never read it",
        "I want my personal data deleted from your systems",
        "can someone explain why my complaint was rejected with a template answer",
        "compensation letter arrived with the wrong name and amount",
        "my account was locked after a password reset and support will not unlock it",
        "asked for a receipt for my ticket three times",
        "the compliment form is broken, I wanted to thank the crew",
        "your web chat is only open during business hours in a different time zone",
        "an agent asked me for my full card number over chat, is that legit",
        "please stop calling me about a credit card offer",
        "my elderly father cannot use the website, is there a phone option",
        "the reply to my complaint did not address any of my points",
        "still no answer on a voucher I was promised after the diversion",
    ],
}


for _dept, _more in {
    "baggage": [
        "the baggage office in Quito wants cash only for the delivery fee",
        "my cooler box was refused at bag drop though it was under the weight limit",
        "can I check a bicycle without a box on the Amsterdam route",
        "the compensation for my lost bag was less than the value of the bag itself",
        "my suitcase arrived with someone else's clothes inside, I think they swapped bags",
        "sports equipment fee charged twice for one set of skis",
        "bag came back from the lost and found with the name tag torn off",
        "the online form asks for a file reference I was never given",
    ],
    "operations": [
        "the plane swapped to a smaller one and twenty of us were bumped",
        "our flight from Tokyo sat on the runway for de icing for two hours",
        "flight to Manila cancelled for a typhoon warning, what are the options",
        "the aircraft had a cracked windscreen and we were moved to a new plane tomorrow",
        "we were told the delay is weather but the sky is clear in both cities",
        "diverted to Shannon for a medical emergency, all fine but we missed connections",
        "flight status says landed but we are still in the air",
        "no crew hotel, so the crew is resting and we wait at the airport all night",
    ],
    "reservations": [
        "my passport number is saved wrong on the booking and I cannot edit it",
        "the multi city booking tool drops the last leg",
        "can I pay with two different cards for one booking",
        "my infant turned two during the trip, do I need a seat for the return",
        "I got a voucher instead of the refund I chose",
        "the booking page in Spanish shows prices in dollars not pesos",
        "can I hold a fare for 24 hours before paying",
        "my loyalty account merged with someone else's after a name change",
    ],
    "airport": [
        "the lounge in Tokyo stopped accepting the day pass without notice",
        "nobody at the Havana counter could print my connecting boarding pass",
        "the gate in Chicago was changed to another concourse ten minutes before boarding",
        "staff in Nice would not let me take my duty free bag on board",
        "the self bag drop rejected my bag as overweight at 22 kilos",
        "special assistance left my father alone at the gate for an hour",
        "the airport announced the wrong destination for our boarding call",
        "the lounge in Cape Town closes before the late flight boards",
    ],
    "inflight": [
        "turbulence spilled hot tea on me and the crew gave me a wet towel",
        "the seat belt sign stayed on for four hours, could not use the toilet",
        "my seat was already broken when I sat down, reclined all the way back",
        "crew announced no hot meals because the ovens failed",
        "the cabin lights stayed on at full brightness on a night flight",
        "kids' entertainment channel had adult movies on it",
        "my paid extra legroom seat had a metal box under the seat in front",
        "the crew forgot to bring my pre ordered birthday cake for my wife",
    ],
    "customer_care": [
        "I sent my receipts by post as asked and heard nothing back",
        "your complaint reply came from a no reply address so I cannot answer",
        "a chat agent promised a refund but the refund team says no record",
        "the phone menu has no option for an existing complaint",
        "my compliment for the crew went unanswered for a month",
        "the company address for legal letters is not on the website",
        "I got a survey asking how my flight was, it was cancelled",
        "support told me to call the airport and the airport told me to call support",
    ],
}.items():
    SINGLETONS[_dept].extend(_more)


def build(seed: int = 6) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    rows: list[dict] = []
    n = 0
    for name, (dept, count, lines) in CLUSTERS.items():
        # Each incident starts at its own time and its reports arrive over about two hours.
        t0 = start + timedelta(minutes=rng.randrange(0, 30 * 60))
        for i in range(count):
            text = lines[i % len(lines)] if i < len(lines) else rng.choice(lines)
            body = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
            at = t0 + timedelta(seconds=rng.randrange(0, 2 * 3600))
            rows.append({"id": f"L{n:04d}", "department": dept, "text": body, "at": at.isoformat(), "cluster": name})
            n += 1
    for dept, lines in SINGLETONS.items():
        for text in lines:
            body = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
            at = start + timedelta(seconds=rng.randrange(0, 36 * 3600))
            rows.append({"id": f"L{n:04d}", "department": dept, "text": body, "at": at.isoformat(), "cluster": None})
            n += 1
    rows.sort(key=lambda r: r["at"])
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("labelled.jsonl")
    rows = build()
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} cases, {sum(1 for r in rows if r['cluster'])} in {len(CLUSTERS)} clusters -> {out}")
