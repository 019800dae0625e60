module tunedhttp/peers/go

go 1.19
